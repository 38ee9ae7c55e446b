"""Amazon SP-API constants: endpoints, rate limits, report types, column names."""
import collections

REGION_API_ENDPOINTS = {
    "na": "https://sellingpartnerapi-na.amazon.com",
    "eu": "https://sellingpartnerapi-eu.amazon.com",
    "fe": "https://sellingpartnerapi-fe.amazon.com",
}
LWA_ENDPOINT = "https://api.amazon.com"
LWA_TOKEN_PATH = "/auth/o2/token"

# Website authorization workflow (SP-API docs: "Website authorization workflow"): the
# seller consents in Seller Central, which sends the browser back to the app's redirect
# URI with an authorization code; LWA trades the code (single use, valid 5 minutes) for
# the seller's refresh token.
SELLER_CENTRAL_CONSENT_PATH = "/apps/authorize/consent"
# Amazon's parameter for an app still in Draft status (dropped once the app is published).
AUTHORIZE_DRAFT_VERSION = "beta"
AUTHORIZE_CALLBACK_PATH = "/amazon_fbm/authorize/callback"
# How long the state of one click on Authorize with Amazon stays valid.
AUTHORIZE_STATE_MINUTES = 10
# Seller Central per marketplace (SP-API docs: "Seller Central URLs"), and per region the
# one a seller of the region without a known marketplace starts from.
SELLER_CENTRAL_URLS = {
    "A2EUQ1WTGCTBG2": "https://sellercentral.amazon.ca",       # CA
    "ATVPDKIKX0DER": "https://sellercentral.amazon.com",       # US
    "A1AM78C64UM0Y8": "https://sellercentral.amazon.com.mx",   # MX
    "A2Q3Y263D00KWC": "https://sellercentral.amazon.com.br",   # BR
    "A28R8C7NBKEWEA": "https://sellercentral.amazon.ie",       # IE
    "A1RKKUPIHCS9HS": "https://sellercentral-europe.amazon.com",  # ES
    "A1F83G8C2ARO7P": "https://sellercentral-europe.amazon.com",  # UK
    "A13V1IB3VIYZZH": "https://sellercentral-europe.amazon.com",  # FR
    "AMEN7PMS3EDWL": "https://sellercentral.amazon.com.be",    # BE
    "A1805IZSGTT6HS": "https://sellercentral.amazon.nl",       # NL
    "A1PA6795UKMFR9": "https://sellercentral-europe.amazon.com",  # DE
    "APJ6JRA9NG5V4": "https://sellercentral-europe.amazon.com",   # IT
    "A2NODRKZP88ZB9": "https://sellercentral.amazon.se",       # SE
    "AE08WJ6YKNBMC": "https://sellercentral.amazon.co.za",     # ZA
    "A1C3SOZRARQ6R3": "https://sellercentral.amazon.pl",       # PL
    "ARBP9OOSHTCHU": "https://sellercentral.amazon.eg",        # EG
    "A33AVAJ2PDY3EV": "https://sellercentral.amazon.com.tr",   # TR
    "A17E79C6D8DWNP": "https://sellercentral.amazon.sa",       # SA
    "A2VIGQ35RCS4UG": "https://sellercentral.amazon.ae",       # AE
    "A21TJRUUN4KGV": "https://sellercentral.amazon.in",        # IN
    "A19VAU5U5O7RUS": "https://sellercentral.amazon.sg",       # SG
    "A39IBJ37TRP1C6": "https://sellercentral.amazon.com.au",   # AU
    "A1VC38T7YXB528": "https://sellercentral.amazon.co.jp",    # JP
}
REGION_SELLER_CENTRAL_URLS = {
    "na": "https://sellercentral.amazon.com",
    "eu": "https://sellercentral-europe.amazon.com",
    "fe": "https://sellercentral.amazon.co.jp",
}

# API paths a Restricted Data Token names (the library knows the others).
PATH_ORDERS_V0 = "/orders/v0/orders"
PATH_REPORT_DOCUMENT = "/reports/2021-06-30/documents/%s"

# Default usage plans (requests per second, burst), from Amazon's models.
RATE_LIMITS = {
    "getOrders": (0.0167, 20),
    "getOrder": (0.5, 30),
    "getOrderItems": (0.5, 30),
    # Orders API 2026-01-01 (orders_2026-01-01.json usage plans).
    "searchOrders": (0.0056, 20),
    "getOrder2026": (0.5, 30),
    "confirmShipment": (2.0, 10),
    "createReport": (0.0167, 15),
    "getReport": (2.0, 15),
    "getReportDocument": (0.0167, 15),
    "downloadDocument": (50.0, 50),  # presigned S3 URL, not an SP-API quota
    "createRestrictedDataToken": (1.0, 10),
    "getMarketplaceParticipations": (0.016, 15),
    "lwaToken": (5.0, 10),
}

REPORT_UNSHIPPED = "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING"
REPORT_ALL_ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
REPORT_ALL_ORDERS_BY_UPDATE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
RESTRICTED_REPORT_TYPES = {REPORT_UNSHIPPED}

# Reports API ``processingStatus`` -> the life-cycle step our records follow.
REPORT_STATUS = {
    "IN_QUEUE": "pending",
    "IN_PROGRESS": "pending",
    "DONE": "done",
    "CANCELLED": "cancelled",   # cancelled, or Amazon had no data for the window
    "FATAL": "fatal",           # may carry a document with Amazon's error text
}
# reportOptions a report type is always requested with. The Unshipped Orders
# report has a sales-channel column only when asked (reportType values doc).
REPORT_OPTIONS = {REPORT_UNSHIPPED: {"ShowSalesChannel": "true"}}

# Orders API versions a seller can choose. v0's read operations (getOrders,
# getOrder, getOrderItems, getOrderAddress, getOrderBuyerInfo,
# getOrderItemsBuyerInfo) are retired by Amazon on V0_READS_RETIRED_ON;
# confirmShipment stays on v0, which Amazon has not deprecated.
ORDERS_API_2026 = "2026-01-01"
ORDERS_API_V0 = "v0"
ORDERS_API_VERSIONS = (ORDERS_API_2026, ORDERS_API_V0)
ORDERS_API_DEFAULT = ORDERS_API_2026
V0_READS_RETIRED_ON = "2027-03-27"

# v0 OrderStatus <-> 2026-01-01 fulfillmentStatus; v0 channel <-> fulfilledBy.
FULFILLMENT_STATUS_2026 = {
    "PendingAvailability": "PENDING_AVAILABILITY", "Pending": "PENDING",
    "Unshipped": "UNSHIPPED", "PartiallyShipped": "PARTIALLY_SHIPPED", "Shipped": "SHIPPED",
    "Canceled": "CANCELLED", "Unfulfillable": "UNFULFILLABLE",
}
ORDER_STATUS_V0 = {v: k for k, v in FULFILLMENT_STATUS_2026.items()}
FULFILLED_BY_2026 = {"MFN": "MERCHANT", "AFN": "AMAZON"}
CHANNEL_V0 = {v: k for k, v in FULFILLED_BY_2026.items()}

# includedData each flow asks for (2026-01-01). Buyer and recipient come by the
# app's roles, without a Restricted Data Token; items always come with the order.
INCLUDED_DATA_IMPORT = ("BUYER", "RECIPIENT", "PROCEEDS", "PROMOTION", "FULFILLMENT",
                        "CANCELLATION", "TAX")
INCLUDED_DATA_SHIPPED = INCLUDED_DATA_IMPORT + ("PACKAGES",)
INCLUDED_DATA_STATUS = ("FULFILLMENT", "CANCELLATION")

# Restricted data elements of getOrders (buyer and ship-to).
ORDERS_RESTRICTED_ELEMENTS = ["buyerInfo", "shippingAddress"]

UNSHIPPED_STATUSES = ("Unshipped", "PartiallyShipped")
SHIPPED_STATUSES = ("Shipped",)
PARTIALLY_SHIPPED = "PartiallyShipped"
# Statuses an order of the unshipped report may have and still be imported
# ("Pending" is how some All Orders report versions name an unshipped order).
IMPORTABLE_UNSHIPPED_STATUSES = UNSHIPPED_STATUSES + ("Pending",)
MFN = "MFN"
MFN_CHANNEL_VALUES = (MFN, "Merchant")
STATUS_UNSHIPPED = "Unshipped"

# The three FBM flows, one vocabulary: ``flow`` (queues, reports, the pipeline),
# the Operations wizard's ``operation``, and the seller's scheduler fields (named
# here once; never built from strings elsewhere).
FLOW_UNSHIPPED = "unshipped"
FLOW_SHIPPED = "shipped"
FLOW_MISSING_UNSHIPPED = "missing_unshipped"


class FbmFlow(collections.namedtuple("FbmFlow", "flow operation auto interval interval_type next_run "
                                                "last_run cursor dashboard")):
    __slots__ = ()


FBM_FLOWS = (
    FbmFlow(FLOW_UNSHIPPED, "fbm_import_unshipped", "fbm_unshipped_auto", "fbm_unshipped_interval",
            "fbm_unshipped_interval_type", "fbm_unshipped_next_run", "fbm_unshipped_last_run", None,
            "dashboard_flow_unshipped"),
    FbmFlow(FLOW_SHIPPED, "fbm_import_shipped", "fbm_shipped_auto", "fbm_shipped_interval",
            "fbm_shipped_interval_type", "fbm_shipped_next_run", "fbm_shipped_last_run", "fbm_shipped_cursor",
            "dashboard_flow_shipped"),
    FbmFlow(FLOW_MISSING_UNSHIPPED, "fbm_import_missing_unshipped", "fbm_missing_auto", "fbm_missing_interval",
            "fbm_missing_interval_type", "fbm_missing_next_run", "fbm_missing_last_run", "fbm_missing_cursor",
            "dashboard_flow_missing"),
)
FBM_FLOW_BY_NAME = {f.flow: f for f in FBM_FLOWS}
FBM_FLOW_BY_OPERATION = {f.operation: f for f in FBM_FLOWS}

# Scheduled imports list orders by lastUpdatedAfter from a stored cursor; they
# start this much before it, so nothing updated around the boundary is missed.
CURSOR_OVERLAP_MINUTES = 10

# Money fields of a normalised order item (``Decimal``).
MONEY_FIELDS = (
    "item_price", "item_tax", "shipping_price", "shipping_tax", "gift_wrap_price",
    "gift_wrap_tax", "promotion_discount", "promotion_discount_tax",
    "shipping_discount", "shipping_discount_tax",
)
# Those an All Orders report row carries (no promotion / shipping discount tax).
REPORT_MONEY_FIELDS = (
    "item_price", "item_tax", "shipping_price", "shipping_tax", "gift_wrap_price",
    "gift_wrap_tax", "promotion_discount", "shipping_discount",
)

# Report column names (flat files), with the aliases seen across versions.
COLUMN_ALIASES = {
    "order_id": ("order-id", "amazon-order-id"),
    "order_item_id": ("order-item-id",),
    "purchase_date": ("purchase-date",),
    "last_update": ("last-updated-date",),
    "status": ("order-status",),
    "item_status": ("item-status",),
    "channel": ("fulfillment-channel",),
    "sales_channel": ("sales-channel",),
    "buyer_email": ("buyer-email",),
    "buyer_name": ("buyer-name",),
    "buyer_phone": ("buyer-phone-number",),
    "sku": ("sku",),
    "asin": ("asin",),
    "title": ("product-name",),
    "quantity": ("quantity-purchased", "quantity"),
    "quantity_shipped": ("quantity-shipped",),
    "quantity_to_ship": ("quantity-to-ship",),
    "recipient_name": ("recipient-name",),
    "ship_address_1": ("ship-address-1",),
    "ship_address_2": ("ship-address-2",),
    "ship_address_3": ("ship-address-3",),
    "ship_city": ("ship-city",),
    "ship_state": ("ship-state",),
    "ship_postal_code": ("ship-postal-code",),
    "ship_country": ("ship-country",),
    "ship_phone": ("ship-phone-number",),
    "is_business": ("is-business-order",),
    "is_prime": ("is-prime",),
    "currency": ("currency",),
    "item_price": ("item-price",),
    "item_tax": ("item-tax",),
    "shipping_price": ("shipping-price",),
    "shipping_tax": ("shipping-tax",),
    "gift_wrap_price": ("gift-wrap-price",),
    "gift_wrap_tax": ("gift-wrap-tax",),
    "promotion_discount": ("item-promotion-discount",),
    "shipping_discount": ("ship-promotion-discount",),
    "gift_message": ("gift-message-text",),
    # The Unshipped report's promise-date is the latest ship date Amazon promised.
    "ship_by": ("promise-date", "latest-ship-date"),
}

# === Stock export: FBM quantities to Amazon (issue 20) ===
# Listings Items API 2021-08-01 and Feeds API 2021-06-30 usage plans (the models'
# "Usage Plan" tables). The XML / flat-file inventory feeds
# (POST_INVENTORY_AVAILABILITY_DATA, POST_FLAT_FILE_INVLOADER_DATA) were removed by
# Amazon on 2025-07-31: never send them.
RATE_LIMITS.update({
    "getListingsItem": (5.0, 10),
    "patchListingsItem": (5.0, 5),
    "searchListingsItems": (5.0, 5),
    "createFeedDocument": (0.5, 15),
    "uploadFeedDocument": (50.0, 50),   # presigned URL, not an SP-API quota
    "createFeed": (0.0083, 15),
    "getFeed": (2.0, 15),
    "getFeedDocument": (0.0222, 10),
})
LISTINGS_API_VERSION = "2021-08-01"
LISTINGS_ITEM_PATH = "/listings/2021-08-01/items/{sellerId}/{sku}"
FEEDS_API_VERSION = "2021-06-30"
FEEDS_PATH = "/feeds/2021-06-30/feeds"
FEED_DOCUMENTS_PATH = "/feeds/2021-06-30/documents"
FEED_JSON_LISTINGS = "JSON_LISTINGS_FEED"
FEED_CONTENT_TYPE_JSON = "application/json; charset=UTF-8"
REMOVED_FEED_TYPES = ("POST_INVENTORY_AVAILABILITY_DATA", "POST_FLAT_FILE_INVLOADER_DATA",
                      "POST_PRODUCT_DATA", "POST_PRODUCT_PRICING_DATA")
# Feeds API ``processingStatus`` -> our step (like REPORT_STATUS).
FEED_STATUS = {"IN_QUEUE": "pending", "IN_PROGRESS": "pending", "DONE": "done",
               "CANCELLED": "cancelled", "FATAL": "fatal"}
FULFILLMENT_CHANNEL_DEFAULT = "DEFAULT"    # merchant-fulfilled (FBM) quantity
FULFILLMENT_AVAILABILITY_PATH = "/attributes/fulfillment_availability"
# Above this many changed SKUs of a marketplace, one JSON_LISTINGS_FEED instead of
# one patchListingsItem each (5/s: 50 patches are 10 s; a feed is ~5 calls).
STOCK_FEED_THRESHOLD = 50
# Messages per JSON_LISTINGS_FEED (the schema allows 25,000; ~250 bytes each).
STOCK_FEED_MAX_MESSAGES = 10000

# The domain of the relay addresses Amazon gives its buyers (never mailed by Odoo).
AMAZON_RELAY = "@marketplace.amazon."

# === Notifications API v1 and SQS (order notifications) ===
NOTIFICATIONS_GRANTLESS_SCOPE = "sellingpartnerapi::notifications"
NOTIFICATION_ORDER_CHANGE = "ORDER_CHANGE"
NOTIFICATION_PAYLOAD_VERSION = "1.0"
ORDER_CHANGE_TYPES = ("OrderStatusChange", "BuyerRequestedChange")
NOTIFICATION_DESTINATION_PREFIX = "odoo-amazon-fbm"   # + the queue's name
NOTIFICATIONS_PATH = "/notifications/v1"
RATE_LIMITS.update({
    "createDestination": (1.0, 5), "getDestinations": (1.0, 5), "deleteDestination": (1.0, 5),
    "createSubscription": (1.0, 5), "getSubscription": (1.0, 5),
    "deleteSubscriptionById": (1.0, 5),
})
# SQS: up to 10 messages a ReceiveMessage; long polling up to 20 s.
SQS_MAX_MESSAGES = 10
SQS_WAIT_SECONDS = 2
SQS_VISIBILITY_SECONDS = 120
# A message received more often than this without being used is recorded and deleted.
SQS_MAX_RECEIVES = 5
# Notified orders are read with getOrder while its quota lasts (0.5/s, burst 30).
# When they arrive faster, they wait; once the oldest waited this many seconds, one
# searchOrders listing (100 orders a page) reads all that wait (ir.config_parameter
# amazon_fbm_connector.notified_search_age overrides it: lower, faster but more
# searchOrders calls).
NOTIFIED_ORDERS_SEARCH_AGE = 30
# At most this many messages wait in memory (received, not applied yet).
NOTIFIED_ORDERS_PENDING_MAX = 500
SEARCH_PAGE_SIZE = 100   # orders a searchOrders page holds
GET_ORDER_OPERATION = "getOrder2026"
SEARCH_ORDERS_OPERATION = "searchOrders"
# === Settlements (GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2) ===
# Amazon schedules settlement reports itself: they cannot be requested (createReport
# answers 400 "Request for report type ... is not allowed at this time"); they are
# listed with getReports. The non-V2 flat file and the XML were removed on 2026-11-11.
REPORT_SETTLEMENT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
RATE_LIMITS["getReports"] = (0.0222, 10)
GET_REPORTS_PAGE_SIZE = 100        # the model's maximum
REPORTS_RETENTION_DAYS = 90        # getReports serves reports created within 90 days
SETTLEMENT_COLUMNS = (
    "settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date",
    "total-amount", "currency", "transaction-type", "order-id", "merchant-order-id",
    "adjustment-id", "shipment-id", "marketplace-name", "amount-type", "amount-description",
    "amount", "fulfillment-id", "posted-date", "posted-date-time", "order-item-code",
    "merchant-order-item-id", "merchant-adjustment-item-id", "sku", "quantity-purchased",
    "promotion-id",
)

# === Order feeds: cancellations sent to Amazon (docs/cancellations.md) ===
FEED_ORDER_ACKNOWLEDGEMENT = "POST_ORDER_ACKNOWLEDGEMENT_DATA"
FEED_CONTENT_TYPE_XML = "text/xml; charset=UTF-8"
# The CancelReason codes of the order acknowledgement feed.
CANCEL_REASONS = ("NoInventory", "ShippingAddressUndeliverable", "CustomerExchange",
                  "BuyerCanceled", "GeneralAdjustment", "CarrierCreditDecision",
                  "RiskAssessmentInformationNotValid", "CarrierCoverageFailure",
                  "CustomerReturn", "MerchandiseNotReceived")
# A cancellation feed Amazon has not processed after this long is given up.
CANCEL_FEED_TIMEOUT_HOURS = 4
FEED_PAYMENT_ADJUSTMENT = "POST_PAYMENT_ADJUSTMENT_DATA"
# The AdjustmentReason codes of the payment adjustment feed.
ADJUSTMENT_REASONS = ("CustomerReturn", "GeneralAdjustment", "NoInventory", "CouldNotShip",
                      "DifferentItem", "Abandoned", "CustomerCancel", "PriceError",
                      "ProductOutofStock", "CustomerAddressIncorrect", "Exchange", "Other",
                      "CarrierCreditDecision", "RiskAssessmentInformationNotValid",
                      "CarrierCoverageFailure", "TransactionRecord", "Undeliverable",
                      "RefusedDelivery")
# === Returns (GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE) ===
# FBM returns, requested with createReport for at most 60 days of return request dates;
# CANCELLED when no return falls in the window (no returns: not an error).
REPORT_RETURNS = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
RETURNS_MAX_WINDOW_DAYS = 60
RETURNS_EVERY_HOURS = 4            # a seller's returns report is asked for this often
RETURNS_POLL_SECONDS = 60          # the cron looks at a pending report again after this
