import hashlib
import logging
import secrets
import time
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import config

from ..services import creation_lock, errors, notified_orders, order_status_sync
from ..services import runner as runner_mod
from ..services.const import (
    AUTHORIZE_CALLBACK_PATH,
    AUTHORIZE_STATE_MINUTES,
    CURSOR_OVERLAP_MINUTES,
    FBM_FLOWS,
    FLOW_MISSING_UNSHIPPED,
    FLOW_SHIPPED,
    FLOW_UNSHIPPED,
    GET_ORDER_OPERATION,
    INCLUDED_DATA_SHIPPED,
    LWA_ENDPOINT,
    NOTIFIED_ORDERS_PENDING_MAX,
    NOTIFIED_ORDERS_SEARCH_AGE,
    ORDERS_API_2026,
    ORDERS_API_DEFAULT,
    ORDERS_API_V0,
    REGION_API_ENDPOINTS,
    REGION_SELLER_CENTRAL_URLS,
    REPORT_RETURNS,
    REPORT_SETTLEMENT,
    REPORTS_RETENTION_DAYS,
    RETURNS_EVERY_HOURS,
    RETURNS_MAX_WINDOW_DAYS,
    RETURNS_POLL_SECONDS,
    SEARCH_ORDERS_OPERATION,
    SEARCH_PAGE_SIZE,
    SELLER_CENTRAL_URLS,
    SQS_MAX_MESSAGES,
    SQS_MAX_RECEIVES,
    SQS_VISIBILITY_SECONDS,
    SQS_WAIT_SECONDS,
    STOCK_FEED_THRESHOLD,
)
from ..services.normalize import parse_datetime
from ..services.returns_parser import read_returns
from ..services.runner import RECORDABLE_ERRORS, Runner
from ..services.secret_box import SecretBox, key_from_config
from ..services.spapi_client import SpApiClient, authorization_consent_url
from ..services.sqs_consumer import BadNotification, SqsConsumer, parse_order_change

_logger = logging.getLogger(__name__)
MANAGER = "amazon_fbm_connector.group_amazon_manager"
# A click that waits for Amazon (Test Connection): answered within 15 s, even when
# Amazon answers 503 or does not answer at all.
INTERACTIVE_SECONDS = 12
INTERACTIVE_TIMEOUT = 4.0
INTERACTIVE_RETRIES = 2
INTERACTIVE_BACKOFF = 1.0
SCHEDULER_CRON = "amazon_fbm_connector.ir_cron_amazon_fbm_scheduler"
INTERVALS = [("minutes", "Minutes"), ("hours", "Hours"), ("days", "Days")]


def _secret_box():
    return SecretBox(key_from_config(config.get("amazon_fbm_secret_key"), config["data_dir"]))


def _state_hash(state):
    """What the seller keeps of an authorization state: its hash, never the state itself."""
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


OPEN_PICKING = ("draft", "waiting", "confirmed", "assigned")

# The model and domain of each flow's records
FLOW_SOURCES = {
    FLOW_UNSHIPPED: ("amazon.report.request", []),
    FLOW_SHIPPED: ("amazon.order.queue", [("flow", "=", FLOW_SHIPPED)]),
    FLOW_MISSING_UNSHIPPED: ("amazon.order.queue", [("flow", "=", FLOW_MISSING_UNSHIPPED)]),
}

STATUS_SYNC_CRON = "amazon_fbm_connector.ir_cron_amazon_status_sync"


NOTIFICATIONS_CRON = "amazon_fbm_connector.ir_cron_amazon_notifications"


XMLID_MODULE = "amazon_fbm_connector"
RETURNS_CRON = "amazon_fbm_connector.ir_cron_amazon_import_returns"
# Each returns report starts this long before the last one ended: a return Amazon
# recorded late is still found (an RMA already imported is skipped).
RETURNS_OVERLAP = timedelta(days=1)
CRON_XMLID = "amazon_fbm_connector.ir_cron_amazon_import_settlements"
# Reports Amazon created up to this long before the last one seen are listed again:
# a report being created while we listed shows up next time.
CURSOR_OVERLAP = timedelta(hours=6)
# The settlements' look for invoices changed since the last one starts this much before
# it: an invoice posted by a transaction that began before the last look and committed
# after it is seen by the next one.
MATCH_LOOK_OVERLAP = timedelta(hours=1)
# The accounts a seller's settlements are booked on, created once per company.
DEFAULT_ACCOUNTS = {
    "commission": ("amazon_settlement_commission_account_%s", "expense", "6"),
    "fee": ("amazon_settlement_fee_account_%s", "expense", "6"),
    "reserve": ("amazon_settlement_reserve_account_%s", "asset_current", "1"),
}


class AmazonSeller(models.Model):
    _name = "amazon.seller"
    _description = "Amazon Seller Account"
    _inherit = ["mail.thread", "amazon.refresh.mixin"]

    # === FIELDS ===
    name = fields.Char(required=True, tracking=True,
                       help="Your name for this Amazon seller account, e.g. 'My US store'.")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company,
                                 help="The Odoo company that receives this seller's orders.")
    region = fields.Selection([("na", "North America"), ("eu", "Europe"), ("fe", "Far East")],
                              required=True, default="na", tracking=True,
                              help="The Amazon region of the seller's marketplaces; it decides "
                                   "which Amazon server Odoo talks to.")
    merchant_id = fields.Char("Merchant (Seller) ID", tracking=True,
                              help="Your Merchant Token, shown in Seller Central under "
                                   "Settings > Account Info > Merchant Token.")
    lwa_client_id = fields.Char("LWA Client ID", tracking=True,
                                help="The 'Client identifier' of your SP-API app "
                                     "(Seller Central > Develop Apps > View LWA credentials).")
    lwa_client_secret = fields.Char("LWA Client Secret", compute="_compute_secrets",
                                    inverse="_inverse_lwa_client_secret", groups=MANAGER,
                                    help="The 'Client secret' of your SP-API app. Amazon rotates it "
                                         "every 180 days: paste the new one here. Stored encrypted.")
    refresh_token = fields.Char(compute="_compute_secrets", inverse="_inverse_refresh_token",
                                groups=MANAGER,
                                help="The refresh token you got when you authorised the app for "
                                     "this seller account (starts with 'Atzr|'). Stored encrypted.")
    lwa_client_secret_enc = fields.Char(copy=False, groups=MANAGER)
    refresh_token_enc = fields.Char(copy=False, groups=MANAGER)
    api_endpoint = fields.Char("SP-API Endpoint", compute="_compute_endpoints", store=True,
                               readonly=False, help="Defaults from the region; any base URL "
                               "is accepted (sandbox, or an emulator on http://127.0.0.1:PORT).")
    lwa_endpoint = fields.Char("LWA Endpoint", compute="_compute_endpoints", store=True,
                               readonly=False,
                               help="Where Odoo gets access tokens (Login with Amazon). Leave the "
                                    "default unless you test against a sandbox or an emulator.")
    spapi_app_id = fields.Char(
        "SP-API App ID", tracking=True,
        help="The App ID of your SP-API application, e.g. amzn1.sp.solution.1234abcd-... (Seller "
             "Central > Apps and Services > Develop Apps; not the LWA client id). Authorize with "
             "Amazon sends the seller to Amazon's consent page of this app. Add Odoo's address + "
             "/amazon_fbm/authorize/callback to the app's OAuth Redirect URIs.")
    spapi_app_draft = fields.Boolean(
        "App in Draft", default=True,
        help="Tick while your SP-API app is in Draft status (not listed in the Selling Partner "
             "Appstore, e.g. a private app): Amazon then needs version=beta in the authorization "
             "URL. Untick once the app is published.")
    seller_central_url = fields.Char(
        "Seller Central URL", compute="_compute_seller_central_url", store=True, readonly=False,
        help="The Seller Central of your marketplaces, where Authorize with Amazon asks you to "
             "sign in and consent (e.g. https://sellercentral.amazon.com, "
             "https://sellercentral-europe.amazon.com). Defaults from the region and the first "
             "marketplace.")
    authorize_state_hash = fields.Char(copy=False, groups=MANAGER)
    authorize_state_user_id = fields.Many2one("res.users", copy=False, groups=MANAGER)
    authorize_state_expires = fields.Datetime(copy=False, groups=MANAGER)
    marketplace_ids = fields.One2many("amazon.marketplace", "seller_id",
                                      help="The Amazon marketplaces this seller sells on, and where "
                                           "their orders land in Odoo.")
    sku_mapping_ids = fields.One2many("amazon.product.mapping", "seller_id", string="SKU Mappings",
                                      help="Amazon SKUs that differ from the product's Internal "
                                           "Reference in Odoo.")
    create_product_if_missing = fields.Boolean(
        "Create Unknown Products", help="Create a product when an order brings an unknown SKU; otherwise the order is "
             "not imported and says which SKU is missing.")
    use_odoo_sequence = fields.Boolean(
        "Use Odoo's Order Numbers", help="Name imported orders with Odoo's sequence instead of prefix + Amazon order id.")
    order_prefix = fields.Char(default="AMZ-",
                               help="Imported orders are named this prefix + the Amazon order id, "
                                    "e.g. AMZ-111-1234567-1234567.")
    workflow_id = fields.Many2one("amazon.sale.workflow", string="Auto Workflow",
                                  help="What Odoo does with each imported order: confirm it, "
                                       "invoice it, post the invoice, register the payment.")
    import_days = fields.Integer(
        "Look Back (Days)", default=30,
        help="How many days back the imports look by default: the dates the Operations wizard "
             "proposes for every operation, the scheduled unshipped report, and the first "
             "scheduled run of the shipped and missing-unshipped imports (later runs continue "
             "from where the previous one stopped).")
    shipping_product_id = fields.Many2one(
        "product.product", default=lambda self: self.env.ref(
            "amazon_fbm_connector.product_amazon_shipping", raise_if_not_found=False),
        help="The service product of the shipping line Amazon's buyer paid.")
    gift_wrap_product_id = fields.Many2one(
        "product.product", default=lambda self: self.env.ref(
            "amazon_fbm_connector.product_amazon_gift_wrap", raise_if_not_found=False),
        help="The service product of the gift wrap line.")
    discount_product_id = fields.Many2one(
        "product.product", string="Promotion Product", default=lambda self: self.env.ref(
            "amazon_fbm_connector.product_amazon_promotion", raise_if_not_found=False),
        help="The product of the discount line of Amazon promotions.")
    adjustment_product_id = fields.Many2one(
        "product.product", string="Tax/Rounding Adjustment Product", default=lambda self: self.env.ref(
            "amazon_fbm_connector.product_amazon_adjustment", raise_if_not_found=False),
        help="Carries what Odoo's per-line tax rounding cannot reproduce of the tax Amazon "
             "charged (at most a cent per order, posted on the tax account), so that untaxed "
             "amount, tax and total match Amazon to the cent. A larger difference is reported "
             "on the order.")
    orders_api_version = fields.Selection(
        [(ORDERS_API_2026, "2026-01-01"), (ORDERS_API_V0, "v0 (legacy)")], string="Orders API Version",
        required=True, default=ORDERS_API_DEFAULT,
        help="The Orders API the imports read orders with. 2026-01-01 brings items, prices, buyer "
             "and address in one call, without a Restricted Data Token. v0 stays selectable "
             "until Amazon retires its read operations (getOrders, getOrder, getOrderItems...) "
             "on 2027-03-27; after that day only 2026-01-01 works. Shipment confirmations use "
             "v0's confirmShipment either way.")
    queue_size = fields.Integer("Orders per Queue", default=50,
                                help="An import of shipped or missing orders is split into queues "
                                     "of this many orders each.")
    report_timeout_hours = fields.Float("Give Up on a Report After", default=4.0,
                                        help="A report Amazon is still preparing after this many "
                                             "hours is closed; request it again.")
    max_line_attempts = fields.Integer("Retries per Order", default=3,
                                       help="How many times the scheduler tries again an order "
                                            "that failed to import before it waits for you.")
    # FBM scheduler
    fbm_unshipped_auto = fields.Boolean(
        "Import Unshipped Orders Automatically",
        help="Ask Amazon for the Unshipped Orders report on a schedule and import it with no click.")
    fbm_unshipped_interval = fields.Integer(
        "Unshipped Import Every", default=1, help="How often the unshipped orders are imported.")
    fbm_unshipped_interval_type = fields.Selection(
        INTERVALS, string="Unshipped Import Unit", default="hours",
        help="The unit of the unshipped import's interval.")
    fbm_unshipped_next_run = fields.Datetime(
        "Next Unshipped Import", copy=False,
        help="When the scheduler asks Amazon for unshipped orders next; change it to move the run.")
    fbm_shipped_auto = fields.Boolean(
        "Import Shipped Orders Automatically",
        help="Import the orders Amazon reports as shipped on a schedule: new ones are created "
             "delivered, known ones get their delivery validated.")
    fbm_shipped_interval = fields.Integer(
        "Shipped Import Every", default=1, help="How often the shipped orders are imported.")
    fbm_shipped_interval_type = fields.Selection(
        INTERVALS, string="Shipped Import Unit", default="days",
        help="The unit of the shipped import's interval.")
    fbm_shipped_next_run = fields.Datetime(
        "Next Shipped Import", copy=False,
        help="When the scheduler imports shipped orders next; change it to move the run.")
    fbm_missing_auto = fields.Boolean(
        "Import Missing Unshipped Orders Automatically",
        help="On a schedule, look for unshipped orders the report missed and import them.")
    fbm_missing_interval = fields.Integer(
        "Missing Orders Check Every", default=6,
        help="How often the missing unshipped orders are looked for.")
    fbm_missing_interval_type = fields.Selection(
        INTERVALS, string="Missing Orders Check Unit", default="hours",
        help="The unit of the missing orders check's interval.")
    fbm_missing_next_run = fields.Datetime(
        "Next Missing Orders Check", copy=False,
        help="When the scheduler looks for missing unshipped orders next; change it to move the run.")
    fbm_shipped_cursor = fields.Datetime(
        "Shipped Orders Synced Until", copy=False, readonly=True,
        help="The scheduled shipped import lists the orders Amazon updated since this time "
             "(a few minutes earlier, to overlap); it moves on to the time Amazon's answer covers "
             "once the orders found are queued. Empty: the next run looks back Import Days.")
    fbm_missing_cursor = fields.Datetime(
        "Unshipped Orders Synced Until", copy=False, readonly=True,
        help="The same for the scheduled missing-unshipped import.")
    realtime_valuation_warning = fields.Boolean(compute="_compute_realtime_valuation_warning")
    connection_state = fields.Selection(
        [("unknown", "Not Tested"), ("ok", "Connected"), ("failed", "Failed")],
        default="unknown", required=True, copy=False, readonly=True,
        help="The result of the last Test Connection.")
    connection_checked_at = fields.Datetime("Connection Tested On", copy=False, readonly=True,
                                            help="When the connection to Amazon was last tested.")
    buyer_data_retention = fields.Boolean(
        "Anonymise Buyer Data", default=True,
        help="Amazon's Data Protection Policy: once an order is delivered and the retention "
             "period is over, the buyer's name, address, phone and e-mail are removed from "
             "the contact (the country stays, for the invoices' taxes). Buyers who have "
             "another order still open, a non-Amazon order, or are companies are kept.")
    buyer_data_retention_days = fields.Integer(
        "Keep Buyer Data (days)", default=30,
        help="Days after the last delivery of a buyer's orders before the buyer's personal "
             "data is anonymised.")
    sale_order_count = fields.Integer("Orders", compute="_compute_overview_counts",
                                      help="Orders imported from this seller account.")
    report_request_count = fields.Integer("Reports", compute="_compute_overview_counts",
                                          help="Sale Order Reports asked of Amazon.")
    queue_count = fields.Integer("Queues", compute="_compute_overview_counts",
                                 help="Order data queues of shipped and missing orders.")
    failed_item_count = fields.Integer("Failed Items", compute="_compute_overview_counts",
                                       help="Orders of reports and queues that could not be "
                                            "imported and wait for you.")
    fbm_unshipped_last_run = fields.Datetime("Last Unshipped Import", compute="_compute_last_runs",
                                             help="When unshipped orders were last asked of Amazon.")
    fbm_shipped_last_run = fields.Datetime("Last Shipped Import", compute="_compute_last_runs",
                                           help="When shipped orders were last listed on Amazon.")
    fbm_missing_last_run = fields.Datetime("Last Missing Orders Check", compute="_compute_last_runs",
                                           help="When missing unshipped orders were last looked for.")
    fbm_status_sync_auto = fields.Boolean(
        "Follow Amazon Order Changes", default=True,
        help="Every few minutes, look at the orders Amazon changed since the last look: "
             "cancellations (whole or one item), buyers' cancellation requests, and orders "
             "shipped outside Odoo.")
    fbm_status_sync_requested = fields.Boolean(
        copy=False, help="The seller asked to follow Amazon's order changes now (Follow Changes "
                         "Now): the next pass of the status sync does, whatever the schedule.")
    fbm_status_sync_cursor = fields.Datetime(
        "Order Changes Followed Until", copy=False,
        help="The next look at Amazon's order changes covers the orders changed since this "
             "time; empty: since the start of the import window (Look Back (Days)).")
    fbm_status_sync_params = fields.Json(copy=False, readonly=True)   # a listing under way
    fbm_status_sync_token = fields.Char(copy=False, readonly=True)    # its next page
    sqs_queue_url = fields.Char(
        "SQS Queue URL", tracking=True,
        help="The Amazon SQS queue Amazon sends this seller's order notifications to, e.g. "
             "https://sqs.us-east-1.amazonaws.com/123456789012/amazon-orders. Its access policy "
             "must let Amazon's notification service (account 437568002678) send messages.")
    sqs_region = fields.Char(
        "SQS Region", default="us-east-1", tracking=True,
        help="The AWS region of the queue (the part after 'sqs.' in its URL).")
    sqs_endpoint = fields.Char(
        "SQS Endpoint", tracking=True,
        help="Leave empty for AWS. Set it only to use an SQS-compatible server (a local test "
             "server on http://127.0.0.1:PORT).")
    aws_access_key_id = fields.Char(
        "AWS Access Key ID", tracking=True, groups=MANAGER,
        help="The access key of an AWS user allowed to read and delete messages of the queue "
             "(sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes). Leave empty to "
             "use the Odoo server's own AWS identity (instance role, environment).")
    aws_secret_access_key = fields.Char(
        "AWS Secret Access Key", compute="_compute_aws_secret", inverse="_inverse_aws_secret",
        groups=MANAGER, help="The secret of that access key. Stored encrypted.")
    aws_secret_access_key_enc = fields.Char(copy=False, groups=MANAGER)
    notification_state = fields.Selection(
        [("off", "Not Subscribed"), ("subscribed", "Subscribed"), ("failed", "Failed")],
        string="Order Notifications", default="off", required=True, copy=False, readonly=True,
        tracking=True, help="Whether Amazon sends this seller's order changes to the SQS queue.")
    notifications_since = fields.Datetime(
        "Subscribed Since", copy=False, readonly=True,
        help="When the seller subscribed to Amazon's order notifications.")
    notification_last_message = fields.Datetime(
        "Last Notification", compute="_compute_notification_stats",
        help="When Odoo last applied a notification read from the queue.")
    notification_error = fields.Text("Notification Problem", copy=False, readonly=True,
                                     help="The last error met while reading the queue, if any.")
    notification_destination_ref = fields.Char(
        "Amazon Destination ID", copy=False, readonly=True,
        help="Amazon's id of the SQS queue registered with the Notifications API.")
    notification_subscription_ref = fields.Char(
        "Amazon Subscription ID", copy=False, readonly=True,
        help="Amazon's id of the seller's ORDER_CHANGE subscription.")
    notification_safety_hours = fields.Integer(
        "Safety Net Listing Every (Hours)", default=1,
        help="With notifications on, the scheduled listing of orders Amazon updated runs only "
             "this often, to catch anything a lost notification missed (imports and status "
             "changes alike).")
    notification_safety_next_run = fields.Datetime(
        "Next Safety Net Listing", copy=False,
        help="When the next listing of the orders Amazon updated runs, catching what a lost "
             "notification missed.")
    notification_safety_cursor = fields.Datetime(
        "Safety Net Synced Until", copy=False, readonly=True,
        help="The next safety-net listing asks Amazon for the orders changed after this time.")
    notification_safety_params = fields.Json(copy=False, readonly=True)   # a listing under way
    notification_safety_token = fields.Char(copy=False, readonly=True)    # its next page
    notification_ids = fields.One2many("amazon.notification", "seller_id")
    notification_dropped_count = fields.Integer(
        "Dropped Notifications", compute="_compute_notification_stats",
        help="Notifications that kept failing and were set aside with their reason.")
    settlement_journal_id = fields.Many2one(
        "account.journal", string="Settlement Journal", check_company=True,
        domain="[('type', '=', 'bank'), ('company_id', '=', company_id)]",
        help="A bank-type journal standing for the money Amazon holds for this seller. Each "
             "Amazon settlement becomes a bank statement of this journal, and the auto "
             "workflow's payments should be registered in it. Empty: 'Amazon settlement' is "
             "created at the first import.")
    settlement_commission_account_id = fields.Many2one(
        "account.account", string="Commission Account", check_company=True,
        domain="[('company_id', '=', company_id), ('deprecated', '=', False)]",
        help="Expense account of Amazon's commissions (Commission, RefundCommission). Empty: "
             "'Amazon commissions', created once per company.")
    settlement_fee_account_id = fields.Many2one(
        "account.account", string="Fee Account", check_company=True,
        domain="[('company_id', '=', company_id), ('deprecated', '=', False)]",
        help="Expense account of Amazon's other fees (closing fees, shipping holdbacks, the "
             "Subscription Fee, storage ...). Empty: 'Amazon fees', created once per company.")
    settlement_reserve_account_id = fields.Many2one(
        "account.account", string="Reserve Account", check_company=True,
        domain="[('company_id', '=', company_id), ('deprecated', '=', False)]",
        help="Current asset holding the money Amazon keeps in reserve out of a payout and "
             "releases in a later one. Empty: 'Amazon reserve', created once per company.")
    settlement_auto = fields.Boolean(
        "Import Settlements", default=True,
        help="The scheduled action 'Amazon: import settlements' imports this seller's "
             "settlement reports as Amazon publishes them (about every 14 days).")
    settlement_cursor = fields.Datetime(
        copy=False, help="Settlement reports Amazon created before this were already listed.")
    settlement_requested = fields.Boolean(copy=False)
    settlement_match_cursor = fields.Datetime(
        copy=False, help="Invoices and credit notes changed before this were already looked "
                         "at for the settlements' amounts waiting on the suspense account.")
    settlement_ids = fields.One2many("amazon.settlement", "seller_id", string="Settlements")
    # returns (GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE)
    returns_auto = fields.Boolean(
        "Import Returns", default=True,
        help="The scheduled action 'Amazon: import returns' asks Amazon for this seller's FBM "
             "returns report every few hours; each return (RMA) becomes an Amazon return with "
             "its return picking and the credit note of Amazon's refund.")
    returns_cursor = fields.Datetime(
        "Returns Imported Until", copy=False, readonly=True,
        help="Returns requested before this were already imported; the next report starts here.")
    returns_report_ref = fields.Char(
        "Pending Returns Report", copy=False, readonly=True,
        help="Amazon's id of the returns report asked for and not read yet.")
    returns_report_from = fields.Datetime(copy=False, readonly=True)
    returns_report_to = fields.Datetime(copy=False, readonly=True)
    returns_last_request = fields.Datetime(copy=False, readonly=True)
    returns_requested = fields.Boolean(copy=False)
    return_ids = fields.One2many("amazon.return", "seller_id", string="Returns")

    # === COMPUTE METHODS ===
    @api.depends("region")
    def _compute_endpoints(self):
        for seller in self:
            if not seller.api_endpoint or seller.api_endpoint in REGION_API_ENDPOINTS.values():
                seller.api_endpoint = REGION_API_ENDPOINTS.get(seller.region or "na")
            if not seller.lwa_endpoint:
                seller.lwa_endpoint = LWA_ENDPOINT

    @api.depends("region", "marketplace_ids.amazon_marketplace_id")
    def _compute_seller_central_url(self):
        defaults = set(SELLER_CENTRAL_URLS.values()) | set(REGION_SELLER_CENTRAL_URLS.values())
        for seller in self:
            if seller.seller_central_url and seller.seller_central_url not in defaults:
                continue   # set by hand (a sandbox, an emulator): kept
            first = seller.marketplace_ids[:1].amazon_marketplace_id
            seller.seller_central_url = SELLER_CENTRAL_URLS.get(first) or \
                REGION_SELLER_CENTRAL_URLS.get(seller.region or "na")

    def _compute_secrets(self):
        # Field groups guard read() and search(), not every path that reads a
        # field (export_data, record[field] in server code run for a user):
        # the plaintext is decrypted for managers and the superuser only.
        if not (self.env.su or self.env.user.has_group(MANAGER)):
            raise AccessError(_("Only Amazon managers may read a seller's client secret and "
                                "refresh token."))
        box = None
        for seller in self:
            enc = seller.sudo().lwa_client_secret_enc, seller.sudo().refresh_token_enc
            if any(enc) and box is None:
                box = _secret_box()
            seller.lwa_client_secret = box.decrypt(enc[0]) if enc[0] else False
            seller.refresh_token = box.decrypt(enc[1]) if enc[1] else False

    def _inverse_lwa_client_secret(self):
        box = _secret_box()
        for seller in self:
            seller.sudo().lwa_client_secret_enc = box.encrypt(seller.lwa_client_secret)

    def _inverse_refresh_token(self):
        box = _secret_box()
        for seller in self:
            seller.sudo().refresh_token_enc = box.encrypt(seller.refresh_token)

    def _compute_realtime_valuation_warning(self):
        realtime = bool(self.env["product.category"].sudo().search_count(
            [("property_valuation", "=", "real_time")], limit=1)) if \
            "property_valuation" in self.env["product.category"]._fields else False
        for seller in self:
            seller.realtime_valuation_warning = realtime

    def _compute_overview_counts(self):
        orders = self.env["sale.order"]._read_group([("amazon_seller_id", "in", self.ids)],
                                                    ["amazon_seller_id"], ["__count"])
        orders = {seller.id: count for seller, count in orders}
        reports = self._count_by_seller("amazon.report.request", [])
        queues = self._count_by_seller("amazon.order.queue", [])
        failed = self._count_by_seller("amazon.import.failure", [])
        for seller in self:
            seller.sale_order_count = orders.get(seller.id, 0)
            seller.report_request_count = reports.get(seller.id, 0)
            seller.queue_count = queues.get(seller.id, 0)
            seller.failed_item_count = failed.get(seller.id, 0)

    def _compute_last_runs(self):
        for flow in FBM_FLOWS:
            model, domain = FLOW_SOURCES[flow.flow]
            groups = self.env[model]._read_group(domain + [("seller_id", "in", self.ids)],
                                                 ["seller_id"], ["create_date:max"])
            last = {seller.id: when for seller, when in groups}
            for seller in self:
                seller[flow.last_run] = last.get(seller.id, False)

    def _compute_aws_secret(self):
        if not (self.env.su or self.env.user.has_group(MANAGER)):
            raise AccessError(_("Only Amazon managers may read a seller's AWS secret access key."))
        box = None
        for seller in self:
            enc = seller.sudo().aws_secret_access_key_enc
            if enc and box is None:
                box = _secret_box()
            seller.aws_secret_access_key = box.decrypt(enc) if enc else False

    def _inverse_aws_secret(self):
        box = _secret_box()
        for seller in self:
            seller.sudo().aws_secret_access_key_enc = box.encrypt(seller.aws_secret_access_key)

    def _compute_notification_stats(self):
        # Read from the notifications: the batches never write the seller's row, which
        # two servers reading one queue would otherwise both update.
        Notification = self.env["amazon.notification"]
        dropped = dict(Notification._read_group(
            [("seller_id", "in", self.ids), ("state", "=", "dropped")], ["seller_id"], ["__count"]))
        last = dict(Notification._read_group(
            [("seller_id", "in", self.ids), ("state", "=", "done")], ["seller_id"], ["create_date:max"]))
        for seller in self:
            seller.notification_dropped_count = dropped.get(seller, 0)
            seller.notification_last_message = last.get(seller, False)

    # === CONSTRAINT METHODS ===
    @api.constrains("import_days")
    def _check_import_days(self):
        for seller in self:
            if seller.import_days < 0:
                raise ValidationError(_(
                    "Look Back (Days) of seller %(seller)s cannot be negative (it is %(days)s): "
                    "it is how many days before now an import starts (0: the default, 30).",
                    seller=seller.name, days=seller.import_days))

    # === ACTION METHODS ===
    def action_test_connection(self):
        self.ensure_one()
        try:
            marketplaces = self._get_client(interactive=True).test_connection()
        except errors.AmazonError as exc:
            if isinstance(exc, errors.AmazonOutOfTime):
                exc = _("Amazon did not answer within %s seconds (it may be busy or unreachable from "
                        "this server). Try again in a minute; the scheduled imports retry on their "
                        "own.", INTERACTIVE_SECONDS)
            self.sudo().message_post(subtype_xmlid="mail.mt_note", body=_("Connection test failed: %s", str(exc)))
            self.sudo().write({"connection_state": "failed", "connection_checked_at": fields.Datetime.now()})
            # A notification, not an error: the failed state and the note are kept.
            return {"type": "ir.actions.client", "tag": "display_notification",
                    "params": {"title": _("Amazon"), "type": "danger", "sticky": True,
                               "message": _("Connection test failed: %s", str(exc)),
                               "next": {"type": "ir.actions.client", "tag": "soft_reload"}}}
        self.sudo().write({"connection_state": "ok", "connection_checked_at": fields.Datetime.now()})
        known = set(self.marketplace_ids.mapped("amazon_marketplace_id"))
        missing = [m for m in marketplaces if m not in known]
        message = _("Connected to Amazon. The seller participates in one marketplace.") \
            if len(marketplaces) == 1 else \
            _("Connected to Amazon. The seller participates in %(count)s marketplaces.",
              count=len(marketplaces))
        if missing:
            message += " " + _("Not configured here yet: %s.", ", ".join(missing))
        # Marketplaces configured here that Amazon does not list for the seller.
        not_selling = self.with_context(active_test=False).marketplace_ids._amazon_note_participation(
            marketplaces).filtered("active")
        if not_selling:
            message += " " + _("Amazon does not list the seller on %s: archive these marketplaces "
                               "or register for them in Seller Central.",
                               ", ".join(not_selling.mapped("name")))
        self.sudo().message_post(subtype_xmlid="mail.mt_note", body=message)
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": _("Amazon"), "message": message,
                           "type": "warning" if not_selling else "success",
                           "sticky": bool(not_selling)}}

    def action_authorize_with_amazon(self):
        """Website authorization workflow, first step: Seller Central's consent page of the
        seller's SP-API app, with a state bound to this seller and this user, valid
        ``AUTHORIZE_STATE_MINUTES`` and used once (only its hash is kept)."""
        self.ensure_one()
        if not self.env.user.has_group(MANAGER):
            raise AccessError(_("Only Amazon managers may authorize a seller account with Amazon."))
        seller = self.sudo()
        missing = [label for label, value in (
            (_("SP-API App ID"), seller.spapi_app_id), (_("LWA Client ID"), seller.lwa_client_id),
            (_("LWA Client Secret"), seller.lwa_client_secret_enc),
            (_("Seller Central URL"), seller.seller_central_url)) if not value]
        if missing:
            raise UserError(_("Authorize with Amazon needs the seller's %s first (Seller Central > "
                              "Apps and Services > Develop Apps).", ", ".join(missing)))
        state = secrets.token_urlsafe(32)
        seller.write({"authorize_state_hash": _state_hash(state), "authorize_state_user_id": self.env.uid,
                      "authorize_state_expires": fields.Datetime.now() + timedelta(minutes=AUTHORIZE_STATE_MINUTES)})
        url = authorization_consent_url(seller.seller_central_url.strip(), seller.spapi_app_id.strip(), state,
                                        seller._authorize_redirect_uri(), draft=seller.spapi_app_draft)
        return {"type": "ir.actions.act_url", "url": url, "target": "self"}

    def action_view_amazon_orders(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("amazon_fbm_connector.action_amazon_fbm_orders")
        action["domain"] = [("amazon_seller_id", "in", self.ids)]
        return action

    def action_view_report_requests(self):
        return self._open("amazon.report.request", _("Sale Order Reports"), [("seller_id", "in", self.ids)])

    def action_view_queues(self):
        return self._open("amazon.order.queue", _("Order Data Queues"), [("seller_id", "in", self.ids)])

    def action_view_failed_items(self):
        return self.env["amazon.import.failure"].action_open(self)

    @api.model
    def action_open_operations(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "amazon_fbm_connector.action_amazon_operation_wizard")
        if self:
            action["context"] = {"default_seller_id": self[:1].id}
        return action

    def action_sync_order_status(self):
        """Follow Amazon's order changes now: the status sync's cron does it in the
        background (a listing of changed orders may take longer than a click may)."""
        self.ensure_one()
        return self._ask_cron(STATUS_SYNC_CRON, {"fbm_status_sync_requested": True}, _(
            "Odoo is looking at the orders Amazon changed, in the background: "
            "cancellations and buyers' requests appear on the orders within a minute."))

    def action_export_stock(self):
        """Send what changed now: wakes the stock export (never runs it in the request)."""
        marketplaces = self._stock_marketplaces()
        self.env["amazon.stock.offer"]._trigger_export()
        return self.env["amazon.stock.offer"]._notify(_(
            "The stock export sends the quantities that changed on %s in the background, "
            "within a minute: see Amazon > FBM > Stock on Amazon.",
            ", ".join(marketplaces.mapped("name"))))

    def action_resend_all_stock(self):
        """Resend every offer's quantity, changed or not (after a fix on Amazon's side)."""
        marketplaces = self._stock_marketplaces()
        offers = self.env["amazon.stock.offer"].sudo().search(
            [("marketplace_id", "in", marketplaces.ids)])
        offers.write({"to_send": True, "force_send": True, "transient_attempts": 0})
        self.env["amazon.stock.offer"]._trigger_export()
        if len(offers) == 1:
            return self.env["amazon.stock.offer"]._notify(_(
                "One offer will be sent to Amazon again by the stock export in the background."))
        return self.env["amazon.stock.offer"]._notify(_(
            "%(count)s offers will be sent to Amazon again by the stock export in the "
            "background (more than %(threshold)s at once go as one feed).",
            count=len(offers), threshold=STOCK_FEED_THRESHOLD))

    def action_subscribe_notifications(self):
        """Destination (the queue) and ORDER_CHANGE subscription on Amazon: a few calls,
        found again when they exist, so the button may be pressed any number of times."""
        self.ensure_one()
        seller = self.sudo()
        if seller.orders_api_version == ORDERS_API_V0:
            raise UserError(_("Order notifications read each notified order with Orders API "
                              "2026-01-01: set the seller's Orders API Version to 2026-01-01 first."))
        if not seller.marketplace_ids:
            raise UserError(_("Add the seller's marketplaces first: the subscription names them."))
        try:
            consumer = seller._sqs_consumer()
            arn = consumer.queue_arn()
            destination, subscription = seller._get_client(interactive=True).notifications().subscribe(
                arn, seller.marketplace_ids.mapped("amazon_marketplace_id"))
        except errors.AmazonError as exc:
            message = _("Subscribing to order notifications failed: %s", str(exc))
            seller.write({"notification_state": "failed", "notification_error": str(exc)})
            seller.message_post(subtype_xmlid="mail.mt_note", body=message)
            # A notification, not an error: the failed state and the note are kept.
            return {"type": "ir.actions.client", "tag": "display_notification",
                    "params": {"title": _("Amazon"), "type": "danger", "sticky": True, "message": message,
                               "next": {"type": "ir.actions.client", "tag": "soft_reload"}}}
        values = {"notification_state": "subscribed", "notification_error": False,
                  "notification_destination_ref": destination["destinationId"],
                  "notification_subscription_ref": subscription["subscriptionId"]}
        if seller.notification_state != "subscribed" or not seller.notifications_since:
            values["notifications_since"] = fields.Datetime.now()
        if not seller.notification_safety_cursor:
            # The safety net starts from where the status sync got, else now.
            values["notification_safety_cursor"] = seller.fbm_status_sync_cursor or fields.Datetime.now()
        # a status-sync listing under way ends here (its page token would be stale later)
        values.update(fbm_status_sync_params=False, fbm_status_sync_token=False)
        seller.write(values)
        message = _("Subscribed to Amazon's order notifications: new orders, shipments, "
                    "cancellations and buyers' cancellation requests arrive through the SQS "
                    "queue within about a minute.")
        seller.message_post(subtype_xmlid="mail.mt_note", body=message)
        self._wake_consumer()
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": _("Amazon"), "message": message, "type": "success", "sticky": False}}

    def action_unsubscribe_notifications(self):
        self.ensure_one()
        seller = self.sudo()
        try:
            seller._get_client(interactive=True).notifications().unsubscribe(
                seller.notification_subscription_ref)
        except errors.AmazonError as exc:
            raise UserError(_("Unsubscribing from order notifications failed: %s", str(exc))) from None
        seller.write({"notification_state": "off", "notification_subscription_ref": False,
                      "notifications_since": False, "notification_error": False})
        message = _("Unsubscribed from Amazon's order notifications: the scheduled listings take "
                    "over again. Messages still on the queue are left there.")
        seller.message_post(subtype_xmlid="mail.mt_note", body=message)
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": _("Amazon"), "message": message, "type": "info", "sticky": False}}

    def action_view_notifications(self):
        self.ensure_one()
        return {"type": "ir.actions.act_window", "name": _("Order Notifications"),
                "res_model": "amazon.notification", "view_mode": "tree,form",
                "domain": [("seller_id", "=", self.id)], "context": {"search_default_dropped": 1}}

    def action_import_settlements(self):
        """Ask the cron to import this seller's settlements now; never in the request."""
        return self._ask_cron(CRON_XMLID, {"settlement_requested": True}, _(
            "The settlements Amazon published are imported in the background in a moment: "
            "see Amazon > Accounting > Settlements."), title=_("Amazon settlements"))

    def action_import_returns(self):
        """Ask the returns cron to import this seller's returns now; never in the request."""
        return self._ask_cron(RETURNS_CRON, {"returns_requested": True}, _(
            "Amazon's returns report is requested in the background; Amazon needs a few minutes "
            "to make it. New returns then appear in Amazon > FBM > Returns."),
            title=_("Amazon returns"))

    def action_view_returns(self):
        self.ensure_one()
        return {"type": "ir.actions.act_window", "name": _("Amazon Returns"),
                "res_model": "amazon.return", "view_mode": "tree,form",
                "domain": [("seller_id", "=", self.id)]}

    # === BUSINESS METHODS ===
    def _ask_cron(self, cron_xmlid, flags, message, title=None):
        """What a button that hands work to a cron does: set the sellers' request ``flags``
        (the cron serves flagged sellers first), wake the cron, and tell the user."""
        if flags:
            self.sudo().write(flags)
        runner_mod.Runner(self.env).trigger(cron_xmlid)
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": title or _("Amazon"), "type": "info", "sticky": False,
                           "message": message}}

    def _amazon_refresh_targets(self):
        # the seller's form (connection, scheduler) and its marketplaces' dashboard cards
        return {self._name: self, "amazon.marketplace": self.marketplace_ids}

    def export_data(self, fields_to_export):
        """Exports go through the same field rights as read()."""
        self.check_field_access_rights("read", [f.split("/")[0].split(".")[0] for f in fields_to_export])
        return super().export_data(fields_to_export)

    def _get_client(self, interactive=False, need_refresh_token=True):
        """The seller's SP-API client (secrets read with sudo, never logged).
        ``interactive``: for a click that waits for the answer (Test Connection): a
        short timeout and a few quick retries, all within ``INTERACTIVE_SECONDS``,
        instead of the backoff sized for cron work. ``need_refresh_token=False``: for
        LWA's authorization_code grant, which gives the seller its refresh token."""
        self.ensure_one()
        seller = self.sudo()
        secret, token = seller.lwa_client_secret, seller.refresh_token
        if not (seller.lwa_client_id and secret and (token or not need_refresh_token)):
            raise UserError(_("Seller %s lacks its LWA client id, client secret or refresh token.",
                              seller.name))
        params = self.env["ir.config_parameter"].sudo()
        scale = float(params.get_param("amazon_fbm_connector.rate_scale", "1") or 1)
        timeout = float(params.get_param("amazon_fbm_connector.http_timeout", "30") or 30)
        # Token buckets shared by every worker and server of this database:
        # Amazon counts the seller's calls per application, not per process.
        retry = {}
        if interactive:
            timeout = min(timeout, INTERACTIVE_TIMEOUT)
            retry = {"max_retries": INTERACTIVE_RETRIES, "backoff_cap": INTERACTIVE_BACKOFF}
        client = SpApiClient(client_id=seller.lwa_client_id, client_secret=secret,
                             refresh_token=token or None, api_endpoint=seller.api_endpoint,
                             lwa_endpoint=seller.lwa_endpoint, rate_scale=scale, timeout=timeout,
                             bucket_store=self.env["amazon.rate.bucket"]._store(),
                             orders_api_version=seller.orders_api_version or ORDERS_API_DEFAULT,
                             **retry)
        if interactive:
            client.deadline = time.time() + INTERACTIVE_SECONDS
        return client

    def _authorize_redirect_uri(self):
        """Where Amazon sends the browser back (one of the app's OAuth Redirect URIs)."""
        return self.get_base_url().rstrip("/") + AUTHORIZE_CALLBACK_PATH

    @api.model
    def _authorize_callback(self, state, code, selling_partner_id):
        """Website authorization workflow, last step (the callback controller): checks the
        state (known, this user's, not expired; spent whatever the outcome), trades the
        code for the seller's refresh token with LWA and stores it encrypted. Returns the
        seller; raises UserError or AccessError, then nothing but the spent state is written."""
        if not self.env.user.has_group(MANAGER):
            raise AccessError(_("Only Amazon managers may authorize a seller account with Amazon."))
        unknown = _("This authorization link is unknown or was already used. Open the seller in "
                    "Odoo and click Authorize with Amazon again.")
        if not state:
            raise UserError(_("Amazon's answer carries no state: it did not come from a click on "
                              "Authorize with Amazon in this database."))
        digest = _state_hash(state)
        seller = self.sudo().with_context(active_test=False).search([("authorize_state_hash", "=", digest)], limit=1)
        if not seller:
            raise UserError(unknown)
        # Two answers with the same state at once: one of them spends it.
        self.env.cr.execute("SELECT id FROM amazon_seller WHERE id = %s FOR UPDATE", (seller.id,))
        seller.invalidate_recordset(["authorize_state_hash", "authorize_state_user_id", "authorize_state_expires"])
        if seller.authorize_state_hash != digest:
            raise UserError(unknown)
        user, expires = seller.authorize_state_user_id, seller.authorize_state_expires
        seller.write({"authorize_state_hash": False, "authorize_state_user_id": False,
                      "authorize_state_expires": False})
        if user != self.env.user:
            raise UserError(_("This authorization was started by another Odoo user: the user who "
                              "clicked Authorize with Amazon must finish it."))
        if not expires or expires < fields.Datetime.now():
            raise UserError(_("This authorization link expired (it is valid %s minutes). Click "
                              "Authorize with Amazon again.", AUTHORIZE_STATE_MINUTES))
        if not code:
            raise UserError(_("Amazon sent no authorization code: the consent was not given in "
                              "Seller Central."))
        if seller.merchant_id and selling_partner_id and seller.merchant_id != selling_partner_id:
            raise UserError(_("You authorized the selling partner %(partner)s, but seller %(seller)s is "
                              "%(merchant)s. Sign in to Seller Central with the account of this seller, or "
                              "empty its Merchant ID if it was wrong.", partner=selling_partner_id,
                              seller=seller.name, merchant=seller.merchant_id))
        try:
            token = seller._get_client(interactive=True, need_refresh_token=False).exchange_authorization_code(
                code, seller._authorize_redirect_uri())
        except errors.AmazonError as exc:
            if isinstance(exc, errors.AmazonOutOfTime):
                exc = _("Amazon did not answer within %s seconds.", INTERACTIVE_SECONDS)
            raise UserError(_("Amazon did not give the refresh token: %s", str(exc))) from None
        values = {"refresh_token": token["refresh_token"], "connection_state": "unknown",
                  "connection_checked_at": False}
        if selling_partner_id and not seller.merchant_id:
            values["merchant_id"] = selling_partner_id
        seller.write(values)
        seller.message_post(subtype_xmlid="mail.mt_note", body=_(
            "Authorized with Amazon by %(user)s: the refresh token of selling partner %(partner)s is "
            "stored (encrypted).", user=self.env.user.name, partner=selling_partner_id or seller.merchant_id or "?"))
        return seller

    def _interval(self, number, kind):
        return timedelta(**{kind: max(number or 1, 1)})

    @api.model
    def _cron_fbm_scheduler(self):
        """Dispatcher of the per-seller FBM schedules (one cron for every seller)."""
        runner = runner_mod.Runner(self.env, cron=SCHEDULER_CRON)
        now = fields.Datetime.now()
        for seller in self.search(["|", "|", ("fbm_unshipped_auto", "=", True), ("fbm_shipped_auto", "=", True),
                                    ("fbm_missing_auto", "=", True)]):
            for flow in FBM_FLOWS:
                if not seller[flow.auto]:
                    continue
                due = seller[flow.next_run]
                if due and due > now:
                    continue
                if runner.out_of_time():
                    runner.trigger()
                    return
                runner.run_batch(seller.write, {
                    flow.next_run: now + seller._interval(seller[flow.interval], seller[flow.interval_type])})
                try:
                    seller._scheduled_import(runner, flow)
                except (errors.AmazonError, UserError) as exc:
                    runner.rollback()
                    runner.run_batch(seller.sudo().message_post, subtype_xmlid="mail.mt_note", body=_(
                        "Scheduled %(flow)s import failed: %(err)s", flow=flow.flow, err=str(exc)))
                runner.commit()

    def _scheduled_import(self, runner, flow):
        """One scheduled run of ``flow`` (``const.FbmFlow``): the unshipped report is
        requested; shipped and missing orders are listed from the flow's cursor."""
        if flow.flow == FLOW_UNSHIPPED:
            self.env["amazon.report.request"]._request_unshipped(self, self.marketplace_ids)
        else:
            self._scheduled_queue_import(runner, flow.flow, flow.cursor)

    def _scheduled_queue_import(self, runner, flow, cursor_field):
        """Queue the orders Amazon updated since the stored cursor (minus an overlap).
        The listing (``amazon.order.listing``) reads and commits one page at a time
        and stops before Odoo's time limit; the listing cron, or the next scheduled
        run, continues it. The cursor moves to the end Amazon's answer covers only
        once the listing is complete: a crash in between lists the same orders
        again, and the queues skip those they hold already."""
        Listing = self.env["amazon.order.listing"]
        listing = Listing.search([("seller_id", "=", self.id), ("flow", "=", flow),
                                  ("origin", "=", "scheduled"), ("state", "=", "running")],
                                 order="id", limit=1)
        if not listing:
            cursor = self[cursor_field]
            if cursor:
                since = cursor - timedelta(minutes=CURSOR_OVERLAP_MINUTES)
            else:
                since = fields.Datetime.now() - timedelta(days=self.import_days or 30)
            listing = Listing._start(self, self.marketplace_ids, flow, since=since,
                                     cursor_field=cursor_field)
        runner.commit()
        listing._run(runner)

    @api.model
    def _cron_anonymise_buyers(self, limit=1000):
        runner = runner_mod.Runner(self.env, cron="amazon_fbm_connector.ir_cron_amazon_buyer_retention")
        for seller in self.search([("buyer_data_retention", "=", True)]):
            if runner.out_of_time():
                runner.trigger()
                break
            runner.run_batch(seller._anonymise_buyers, limit=limit)

    def _anonymise_buyers(self, limit=1000):
        """Anonymise the seller's buyers no longer needed; returns those partners."""
        self.ensure_one()
        if not self.buyer_data_retention:
            return self.env["res.partner"]
        cutoff = fields.Datetime.now() - timedelta(days=max(self.buyer_data_retention_days, 0))
        Partner = self.env["res.partner"].with_context(active_test=False)
        SaleOrder = self.env["sale.order"].with_context(active_test=False)
        delivered = self.env["stock.picking"].search([
            ("sale_id.amazon_seller_id", "=", self.id), ("state", "=", "done"),
            ("date_done", "<", cutoff), ("partner_id.amazon_anonymised", "=", False)],
            limit=limit, order="date_done")
        buyers = (delivered.sale_id.partner_id | delivered.sale_id.partner_shipping_id).commercial_partner_id
        buyers = buyers.filtered(lambda p: not p.is_company and not p.amazon_anonymised)
        if not buyers:
            return Partner
        family = Partner.search([("id", "child_of", buyers.ids)])
        orders = SaleOrder.search(["|", ("partner_id", "in", family.ids),
                                   ("partner_shipping_id", "in", family.ids)])
        keep = Partner
        for order in orders:
            buyer = order.partner_id.commercial_partner_id
            if order.state == "cancel":
                continue
            still_needed = (
                order.amazon_seller_id != self or not order.amazon_seller_id.buyer_data_retention
                or order.state in ("draft", "sent")
                or any(p.state in OPEN_PICKING for p in order.picking_ids)
                or not order.picking_ids
                or any(p.date_done and p.date_done >= cutoff for p in order.picking_ids))
            if still_needed:
                keep |= buyer | order.partner_shipping_id.commercial_partner_id
        buyers -= keep
        if not buyers:
            return Partner
        family = Partner.search([("id", "child_of", buyers.ids)])
        family.write({
            "name": _("Anonymised Amazon buyer"), "email": False, "phone": False, "mobile": False,
            "street": False, "street2": False, "city": False, "zip": False, "comment": False,
            "amazon_anonymised": True, "amazon_anonymised_date": fields.Datetime.now()})
        return family

    def _count_by_seller(self, model, domain):
        groups = self.env[model]._read_group(domain + [("seller_id", "in", self.ids)],
                                             ["seller_id"], ["__count"])
        return {seller.id: count for seller, count in groups}

    def _open(self, model, name, domain, context=None, views="tree,form"):
        return {"type": "ir.actions.act_window", "res_model": model, "name": name,
                "view_mode": views, "domain": domain, "context": dict(context or {}, create=False)}

    @api.model
    def _cron_amazon_status_sync(self):
        runner = runner_mod.Runner(self.env, cron=STATUS_SYNC_CRON)
        # A seller subscribed to Amazon's order notifications is followed by them (and by
        # their hourly safety-net listing), not by this listing.
        sellers = self.search(["|", ("fbm_status_sync_auto", "=", True),
                               ("fbm_status_sync_requested", "=", True)])
        for seller in sellers.filtered(lambda s: s.fbm_status_sync_requested or not s._notifications_on()):
            if runner.out_of_time():
                runner.trigger()
                break
            if seller.fbm_status_sync_requested:
                runner.run_batch(seller.sudo().write, {"fbm_status_sync_requested": False})
            # one page a batch: the next pass continues from the next-page token kept
            try:
                done = runner.run_pages(seller._sync_order_status, runner,
                                        on_error=seller._status_sync_failed)
            except errors.AmazonOutOfTime:
                done = False    # nothing of the page was applied: read again next pass
            if not done:
                runner.trigger()
                break

    def _status_sync_failed(self, exc):
        if isinstance(exc, errors.AmazonOutOfTime):
            raise exc
        # A refused page (an expired token...): the next pass lists the window again.
        self.sudo().write({"fbm_status_sync_params": False, "fbm_status_sync_token": False})
        self.sudo().message_post(subtype_xmlid="mail.mt_note", body=_(
            "Following Amazon order changes failed: %s", str(exc)))

    def _sync_order_status(self, runner=None):
        """A work unit: one page of the status sync's listing, the orders Amazon updated
        since the cursor, applied. Like the scheduled imports' cursors, the window starts a
        little before the cursor (applying an update twice changes nothing). The listing's
        parameters and next-page token are kept on the seller between units, so a window
        longer than a pass's quota continues from its next page in the next pass instead
        of listing its first pages again; the cursor moves to the end of Amazon's window
        once its last page is applied. Returns the counts, ``_done`` False while pages
        remain."""
        self.ensure_one()
        seller = self.sudo()
        adapter = (runner.client(seller) if runner else seller._get_client()).orders()
        SaleOrder = self.env["sale.order"].sudo()

        def needs_items(order_ids):
            return SaleOrder.search([
                ("amazon_seller_id", "=", seller.id), ("amazon_order_ref", "in", order_ids),
                ("state", "=", "sale"), ("delivery_status", "!=", "full"),
            ]).mapped("amazon_order_ref")

        # the listing under way: its parameters and when its first page was asked
        listing, token = seller.fbm_status_sync_params, seller.fbm_status_sync_token
        if not listing:
            now = fields.Datetime.now()
            cursor = seller.fbm_status_sync_cursor
            since = cursor - timedelta(minutes=CURSOR_OVERLAP_MINUTES) if cursor else \
                now - timedelta(days=seller.import_days or 30)
            listing = {"params": order_status_sync.listing_params(
                adapter, seller.marketplace_ids.mapped("amazon_marketplace_id"), since),
                "begun": fields.Datetime.to_string(now)}
            token = False
        orders, next_token, window_end = order_status_sync.read_updates(
            adapter, listing["params"], token or None, needs_items)
        counts = SaleOrder._amazon_apply_updates(seller, orders)
        if next_token:
            seller.write({"fbm_status_sync_params": listing, "fbm_status_sync_token": next_token})
            return dict(counts, _done=False)
        values = {"fbm_status_sync_params": False, "fbm_status_sync_token": False}
        # the end of the window Amazon's answer covers (it lists up to two minutes before
        # the first page was asked)
        end = parse_datetime(window_end) if window_end else \
            fields.Datetime.to_datetime(listing["begun"]) - timedelta(minutes=2)
        if end and (not seller.fbm_status_sync_cursor or end > seller.fbm_status_sync_cursor):
            values["fbm_status_sync_cursor"] = end
        seller.write(values)
        return dict(counts, _done=True)

    def _stock_marketplaces(self):
        marketplaces = self.marketplace_ids.filtered("export_stock")
        if not marketplaces:
            raise UserError(_("No marketplace of %s exports its stock: tick Export Stock on the "
                              "marketplaces (Amazon > Configuration > Marketplaces) first.",
                              ", ".join(self.mapped("name"))))
        return marketplaces

    def _sqs_consumer(self):
        self.ensure_one()
        seller = self.sudo()
        if not seller.sqs_queue_url:
            raise UserError(_("Seller %s has no SQS queue URL.", seller.name))
        params = self.env["ir.config_parameter"].sudo()
        return SqsConsumer(
            seller.sqs_queue_url, seller.sqs_region or "us-east-1", endpoint=seller.sqs_endpoint or None,
            access_key_id=seller.aws_access_key_id or None,
            secret_access_key=seller.aws_secret_access_key or None,
            wait_seconds=int(params.get_param("amazon_fbm_connector.sqs_wait_seconds", SQS_WAIT_SECONDS)),
            visibility_seconds=int(params.get_param("amazon_fbm_connector.sqs_visibility_seconds",
                                                    SQS_VISIBILITY_SECONDS)))

    def _wake_consumer(self):
        Runner(self.env).trigger(NOTIFICATIONS_CRON)

    def _notifications_on(self):
        return self.notification_state == "subscribed"

    @api.model
    def _cron_consume_notifications(self):
        """Read every subscribed seller's queue until it is empty or the run nears
        Odoo's time limit; then the safety-net listing of the sellers it is due for."""
        runner = Runner(self.env, cron=NOTIFICATIONS_CRON)
        for seller in self.search([("notification_state", "=", "subscribed")]):
            if runner.out_of_time():
                runner.trigger()
                break
            try:
                seller._consume_notifications(runner)
            except errors.AmazonOutOfTime:
                runner.trigger()
                break
            except RECORDABLE_ERRORS as exc:
                # The queue could not be read: its messages wait there for the next run.
                runner.rollback()
                runner.run_batch(seller.sudo().write, {"notification_error": str(exc)})
                _logger.info("amazon notifications: seller %s: %s", seller.id, exc)
            due = seller.notification_safety_next_run
            if (not due or due <= fields.Datetime.now()) and not runner.out_of_time():
                seller._run_safety_net(runner)
        if runner.out_of_time() and not runner.triggered:
            # Stopped by the time limit, not by an empty queue: read on at once.
            runner.trigger()
        return True

    def _consume_notifications(self, runner):
        """Receive, apply, commit, then delete: a message leaves the queue only once
        the transaction that used it committed. A batch Amazon fails stays on the queue
        and comes back after the visibility timeout (until its receive bound).

        The queue is read until it is empty or the run nears its time limit. Received
        messages wait in memory, oldest first, until their orders are read
        (``notified_orders.plan_reads``): with ``getOrder`` while its quota lasts, and
        with one ``searchOrders`` listing of all that wait once the oldest has waited
        ``notified_search_age`` seconds. No more is received than can be read in this
        run; what is left when it ends is made visible again for the next run."""
        self.ensure_one()
        consumer = self._sqs_consumer()
        params = self.env["ir.config_parameter"].sudo()
        max_receives = int(params.get_param("amazon_fbm_connector.sqs_max_receives", SQS_MAX_RECEIVES))
        search_age = float(params.get_param("amazon_fbm_connector.notified_search_age",
                                            NOTIFIED_ORDERS_SEARCH_AGE))
        client = runner.client(self)
        pending = []        # [message, order id or None (nothing to read), since], oldest first
        no_search = set()   # orders a listing did not return: read with getOrder
        try:
            while not runner.out_of_time():
                get_tokens, get_rate = client.available(GET_ORDER_OPERATION)
                pages = int(max(0.0, client.available(SEARCH_ORDERS_OPERATION)[0]))
                # No more than this run can read: a page per listing call allowed now,
                # and what getOrder's quota allows before the run ends.
                room = min(NOTIFIED_ORDERS_PENDING_MAX, pages * SEARCH_PAGE_SIZE + max(
                    SQS_MAX_MESSAGES, int(get_tokens + get_rate * runner.time_left()))) - len(pending)
                if room > 0:
                    received = consumer.receive_many(room, wait_seconds=0 if pending else None)
                    # One entry per message (one received again comes with its new receipt).
                    again = {m.message_id for m in received}
                    pending = sorted([p for p in pending if p[0].message_id not in again]
                                     + self._pending_entries(received), key=lambda p: p[2])
                if not pending:
                    break
                orders = list(dict.fromkeys(p[1] for p in pending if p[1]))
                how, ids = notified_orders.plan_reads(
                    [(o, o not in no_search) for o in orders], get_tokens, pages >= 1,
                    time.time() - pending[0][2], search_age, get_rate=get_rate)
                chosen = set(ids)
                batch = [p[0] for p in pending if not p[1] or p[1] in chosen]
                if not batch:
                    # Wait for getOrder's next token (or for the oldest to be old enough).
                    time.sleep(max(0.2, min(2.0, runner.time_left(),
                                            (1.0 - get_tokens) / get_rate if get_rate else 1.0)))
                    continue
                taken = {m.message_id for m in batch}
                kept = [p for p in pending if p[0].message_id not in taken]
                unlisted = set()
                done = runner.run_batch(self._apply_notification_messages, batch, client, max_receives,
                                        search=how == "search", unlisted=unlisted,
                                        on_error=self._notifications_failed)
                if done:
                    consumer.delete(done)
                if how == "search" and done is not None:
                    # Not listed: read with getOrder; not reached (quota): listed again.
                    applied = {m.message_id for m in done}
                    left = [p for p in pending if p[1] in chosen and p[0].message_id not in applied]
                    no_search.update(unlisted)
                    kept = sorted(kept + left, key=lambda p: p[2])
                pending = kept
        finally:
            if pending:
                try:
                    consumer.release([p[0] for p in pending])
                except errors.AmazonError as exc:
                    # They come back after the visibility timeout instead.
                    _logger.info("amazon notifications: seller %s: %s", self.id, exc)
        return True

    def _pending_entries(self, messages):
        """``[message, order id to read or None, since]`` of received messages: None for a
        message that needs no read (not a notification, or one applied already)."""
        Notification = self.env["amazon.notification"].sudo()
        parsed = []
        for message in messages:
            try:
                change = parse_order_change(message.body)
            except BadNotification:
                change = None
            parsed.append((message, change))
        seen = set(Notification.search([
            ("seller_id", "=", self.id),
            ("notification_ref", "in", [_ref(m, c) for m, c in parsed])]).mapped("notification_ref"))
        now = time.time()
        return [[m, c.order_id if c and _ref(m, c) not in seen else None, min(m.sent_at or now, now)]
                for m, c in parsed]

    def _notifications_failed(self, exc):
        if isinstance(exc, errors.AmazonOutOfTime):
            raise exc
        # Nothing deleted: the messages come back after the visibility timeout.
        self.sudo().notification_error = _("Applying notifications failed (they will be read "
                                           "again): %s", str(exc))

    def _run_safety_net(self, runner):
        self.ensure_one()
        runner.run_batch(self.sudo().write, {"notification_safety_next_run": fields.Datetime.now() + timedelta(
            hours=max(self.notification_safety_hours or 1, 1))})
        # One page a batch: a window longer than a run's quota continues from its next-page
        # token in the next run, instead of listing its first page again every run.
        runner.run_pages(self._notification_safety_net, runner, on_error=self._safety_net_failed)

    def _safety_net_failed(self, exc):
        if isinstance(exc, errors.AmazonOutOfTime):
            # The next pass reads the next page (the token and parameters are kept) once the
            # quota has the call this one lacked: due at once, a pass triggered at once would
            # only be refused again, pass after pass, until the call fits in a pass's time.
            wait = min(max(exc.wait or 0, 0), 3600)
            self.sudo().notification_safety_next_run = fields.Datetime.now() + timedelta(seconds=wait)
            Runner(self.env).trigger(NOTIFICATIONS_CRON, wait=wait)
            return
        # A refused page (an expired token...): the next listing starts the window again.
        self.sudo().write({"notification_safety_params": False, "notification_safety_token": False})
        self.sudo().message_post(subtype_xmlid="mail.mt_note", body=_(
            "The safety-net listing of Amazon orders failed: %s", str(exc)))

    def _apply_notification_messages(self, messages, client, max_receives, search=False, unlisted=None):
        """A work unit (no commit): apply a batch of SQS messages; returns the
        messages to delete once it committed. ``search``: their orders are listed
        (``notified_orders.read_orders``); ``unlisted`` (a set) receives the orders
        the listing did not return, and the messages of the orders it did not reach
        are not returned either (not applied yet)."""
        self.ensure_one()
        seller = self.sudo()
        Notification = self.env["amazon.notification"].sudo()
        parsed = []
        for message in messages:
            try:
                parsed.append((message, parse_order_change(message.body), None))
            except BadNotification as exc:
                parsed.append((message, None, str(exc)))
        refs = [_ref(m, c) for m, c, _e in parsed]
        seen = set(Notification.search([("seller_id", "=", seller.id),
                                        ("notification_ref", "in", refs)]).mapped("notification_ref"))
        done, fresh = [], []
        for message, change, problem in parsed:
            ref = _ref(message, change)
            if ref in seen:
                done.append(message)   # a duplicate, or recorded already: nothing to do
                continue
            seen.add(ref)
            if message.receive_count > max_receives:
                # Received again and again without being applied: record it and let go.
                self._drop(message, problem or _(
                    "received %(count)s times without being applied; last problem: %(err)s",
                    count=message.receive_count, err=seller.notification_error or _("none recorded")),
                    change)
                done.append(message)
            elif problem:
                seller._set_notification_error(_(
                    "A message on the queue is not an order notification (%(problem)s); it is "
                    "dropped once received %(count)s times.", problem=problem, count=max_receives + 1))
            else:
                fresh.append((message, change))
        if fresh:
            adapter = client.orders()
            codes = seller.marketplace_ids.mapped("amazon_marketplace_id")
            changed = {}
            for _m, c in fresh:
                when = notified_orders.changed_at(c.event_time)
                if when and (c.order_id not in changed or when < changed[c.order_id]):
                    changed[c.order_id] = when
            payloads, unknown, later = notified_orders.read_orders(
                adapter, [c.order_id for _m, c in fresh], codes, changed_at=changed, search=search)
            if unlisted is not None:
                unlisted.update(later)
            fresh = [(m, c) for m, c in fresh if c.order_id in payloads or c.order_id in unknown]
            _counts, problems = notified_orders.apply_orders(seller, list(payloads.values()), client)
            Notification.create([{
                "seller_id": seller.id, "notification_ref": _ref(message, change),
                "amazon_order_ref": change.order_id, "change_type": change.change_type,
                "amazon_status": change.status, "receive_count": message.receive_count,
                "event_time": notified_orders.changed_at(change.event_time) or False, "state": "done",
                "message": problems.get(change.order_id) or (
                    _("Amazon does not know this order.") if change.order_id in unknown else False),
            } for message, change in fresh])
            if seller.notification_error:
                seller.notification_error = False
            done += [m for m, _c in fresh]
        return done

    def _set_notification_error(self, text):
        if self.sudo().notification_error != text:
            self.sudo().notification_error = text

    def _drop(self, message, reason, change=None):
        _logger.warning("amazon notifications: seller %s dropped SQS message %s: %s",
                        self.id, message.message_id, reason)
        self.env["amazon.notification"].sudo().create({
            "seller_id": self.id, "notification_ref": _ref(message, change),
            "amazon_order_ref": change.order_id if change else False,
            "change_type": change.change_type if change else False,
            "amazon_status": change.status if change else False,
            "event_time": (change and notified_orders.changed_at(change.event_time)) or False,
            "state": "dropped", "message": reason, "body": message.body[:100000],
            "receive_count": message.receive_count,
        })

    def _notification_safety_net(self, runner=None):
        """A work unit: one page of the one scheduled listing while notifications are on,
        the orders Amazon updated since the cursor, read with everything an import needs
        and applied like notified orders (imports and status alike). The listing's
        parameters and next-page token are kept on the seller between units; the cursor
        moves once its last page is read. Returns the counts, ``_done`` False while pages
        remain."""
        self.ensure_one()
        seller = self.sudo()
        client = runner.client(seller) if runner else seller._get_client()
        adapter = client.orders()
        params, token = seller.notification_safety_params, seller.notification_safety_token
        if not params:
            now = fields.Datetime.now()
            cursor = seller.notification_safety_cursor or seller.fbm_status_sync_cursor
            since = cursor - timedelta(minutes=10) if cursor else now - timedelta(days=seller.import_days or 30)
            params = adapter.listing_params(
                seller.marketplace_ids.mapped("amazon_marketplace_id"), last_updated_after=since,
                last_updated_before=now - timedelta(minutes=2), included_data=INCLUDED_DATA_SHIPPED)
            token = False
        page = adapter.read_page(params, token or None)
        counts, _problems = notified_orders.apply_orders(seller, page.orders, client)
        if page.next_token:
            seller.write({"notification_safety_params": params, "notification_safety_token": page.next_token})
            return dict(counts, _done=False)
        end = page.window_end or params.get("lastUpdatedBefore") or params.get("LastUpdatedBefore")
        end = parse_datetime(end) if end else None
        values = {"notification_safety_params": False, "notification_safety_token": False}
        cursor = seller.notification_safety_cursor
        if end and (not cursor or end > cursor):
            values["notification_safety_cursor"] = end
            # The status sync, were notifications turned off, continues from here.
            values["fbm_status_sync_cursor"] = end
        seller.write(values)
        return dict(counts, _done=True)

    def _settlement_list(self, deadline=None):
        """Work unit: list the settlement reports Amazon finished since the cursor and keep
        one settlement to download per new report (known reports are skipped)."""
        self.ensure_one()
        now = fields.Datetime.now()
        since = max(self.settlement_cursor or now - timedelta(days=REPORTS_RETENTION_DAYS),
                    now - timedelta(days=REPORTS_RETENTION_DAYS) + timedelta(minutes=5))
        client = self._get_client()
        client.deadline = deadline
        reports = client.reports().list_done(
            REPORT_SETTLEMENT, since, self.marketplace_ids.mapped("amazon_marketplace_id"))
        Settlement = self.env["amazon.settlement"].sudo()
        known = set(Settlement.with_context(active_test=False).search(
            [("seller_id", "=", self.id),
             ("amazon_report_id", "in", [r["reportId"] for r in reports])]).mapped("amazon_report_id"))
        new = [r for r in reports if r["reportId"] not in known]
        if new:
            Settlement.create([{
                "seller_id": self.id, "amazon_report_id": r["reportId"],
                "amazon_document_id": r["reportDocumentId"], "stage": "download",
            } for r in new])
        latest = max((r.get("createdTime") or "" for r in reports), default="")
        values = {"settlement_requested": False}
        if latest:
            created = fields.Datetime.to_datetime(latest[:19].replace("T", " "))
            cursor = created - CURSOR_OVERLAP
            values["settlement_cursor"] = max(self.settlement_cursor, cursor) \
                if self.settlement_cursor else cursor
        self.sudo().write(values)
        return len(new)

    def _settlement_look_again(self, deadline=None):
        """Work unit: the settlements to match again by themselves. An order Amazon settled
        before Odoo had it (or whose invoice was still a draft) waits on the suspense
        account; once its invoice or credit note is posted (or changed) since the last look,
        the settlement that holds it goes to *To Match Again*, and the cron matches it. Only
        what changed is looked at: an order that never comes costs nothing, and what still
        does not match is not looked at again until its invoice changes. Returns how many
        settlements were set to match again."""
        self.ensure_one()
        Settlement = self.env["amazon.settlement"].sudo()
        mine = Settlement.search([("seller_id", "=", self.id)])
        if mine.filtered(lambda s: s.stage in ("download", "book", "match")):
            return 0    # looked at once they are booked: nothing changed meanwhile is missed
        now = self.env.cr.now()     # the clock write_date keeps: this transaction's start
        waiting = [("settlement_id", "in", mine.filtered(lambda s: s.stage == "done").ids),
                   ("state", "=", "unmatched"), ("amazon_order_ref", "!=", False),
                   ("statement_line_id", "!=", False)]
        Line = self.env["amazon.settlement.line"].sudo()
        since = self.settlement_match_cursor or min(mine.mapped("create_date"), default=now)
        todo = Settlement
        if Line.search_count(waiting, limit=1):
            # (the two conditions on invoices may meet two invoices of one order: an order
            # looked at once too often costs a look, not a wrong entry)
            refs = self.env["sale.order"].sudo().search([
                ("amazon_seller_id", "=", self.id),
                ("order_line.invoice_lines.move_id.write_date", ">=", since),
                ("order_line.invoice_lines.move_id.state", "=", "posted")]).mapped("amazon_order_ref")
            if refs:
                todo = Settlement.browse([settlement.id for (settlement,) in Line._read_group(
                    waiting + [("amazon_order_ref", "in", refs)], groupby=["settlement_id"])])
        if todo:
            todo.write({"stage": "match", "match_cursor": 0})
        self.sudo().settlement_match_cursor = now - MATCH_LOOK_OVERLAP
        return len(todo)

    def _settlement_list_failed(self, exc):
        """``Runner`` on_error of the listing: said on the seller; the next run lists again."""
        self.ensure_one()
        self.sudo().message_post(subtype_xmlid="mail.mt_note", body=_(
            "Listing Amazon's settlement reports failed: %s", exc))

    def _settlement_journal(self):
        """The settlement journal, created once ("Amazon settlement", bank type)."""
        self.ensure_one()
        if self.settlement_journal_id:
            return self.settlement_journal_id
        name = "amazon_settlement_journal_%s" % self.id
        journal = self.env.ref("%s.%s" % (XMLID_MODULE, name), raise_if_not_found=False)
        if not journal:
            creation_lock.guard_xmlids(self.env, XMLID_MODULE, [name])
            Journal = self.env["account.journal"].sudo()
            code, n = "AMZS", 1
            while Journal.with_context(active_test=False).search_count(
                    [("code", "=", code), ("company_id", "=", self.company_id.id)]):
                n += 1
                code = "AMZ%d" % n
            journal = Journal.create({
                "name": _("Amazon settlement (%s)", self.name), "type": "bank", "code": code,
                "company_id": self.company_id.id})
            self.env["ir.model.data"].sudo().create({
                "module": XMLID_MODULE, "name": name, "model": "account.journal",
                "res_id": journal.id, "noupdate": True})
        self.sudo().settlement_journal_id = journal
        workflow = self.workflow_id.sudo()
        if workflow and not workflow.payment_journal_id:
            workflow.payment_journal_id = journal
        return journal

    def _settlement_account(self, kind):
        """The seller's account for ``kind`` (commission, fee, reserve), else the default
        one of the company, created once."""
        self.ensure_one()
        own = self["settlement_%s_account_id" % kind]
        if own:
            return own
        xmlid, account_type, prefix = DEFAULT_ACCOUNTS[kind]
        label = {"commission": _("Amazon commissions"), "fee": _("Amazon fees"),
                 "reserve": _("Amazon reserve")}[kind]
        name = xmlid % self.company_id.id
        account = self.env.ref("%s.%s" % (XMLID_MODULE, name), raise_if_not_found=False)
        if not account:
            creation_lock.guard_xmlids(self.env, XMLID_MODULE, [name])
            Account = self.env["account.account"].sudo()
            code = Account._search_new_account_code(self.company_id, 6, prefix + "9999")
            account = Account.create({"name": label, "code": code,
                                      "account_type": account_type,
                                      "company_id": self.company_id.id})
            self.env["ir.model.data"].sudo().create({
                "module": XMLID_MODULE, "name": name, "model": "account.account",
                "res_id": account.id, "noupdate": True})
        return account

    @api.model
    def _settlement_sellers(self):
        """Sellers whose settlements the cron lists now."""
        return self.search(["|", ("settlement_auto", "=", True), ("settlement_requested", "=", True)])

    @api.model
    def _returns_sellers(self):
        """Sellers whose returns the cron imports now (or whose report is pending)."""
        return self.search(["|", "|", ("returns_auto", "=", True), ("returns_requested", "=", True),
                            ("returns_report_ref", "!=", False)])

    @api.model
    def _returns_poll_seconds(self):
        return RETURNS_POLL_SECONDS

    def _returns_due(self):
        """A returns report is to be requested: asked for, never done, every few hours, or
        the last window did not reach now (catching up, 60 days a report)."""
        self.ensure_one()
        now = fields.Datetime.now()
        if self.returns_requested or not self.returns_last_request or not self.returns_cursor:
            return True
        if self.returns_cursor < now - timedelta(hours=RETURNS_EVERY_HOURS) - RETURNS_OVERLAP:
            return True
        return self.returns_last_request < now - timedelta(hours=RETURNS_EVERY_HOURS)

    def _returns_step(self, deadline=None):
        """Work unit: request the returns report of the next window, or look at the
        pending one and, once DONE, store its RMAs. Returns ``requested``, ``pending``,
        ``done``, ``cancelled`` (no returns in the window) or ``fatal``."""
        self.ensure_one()
        client = self._get_client()
        client.deadline = deadline
        reports = client.reports()
        now = fields.Datetime.now()
        if not self.returns_report_ref:
            start = self.returns_cursor or now - timedelta(
                days=min(self.import_days or 30, RETURNS_MAX_WINDOW_DAYS))
            end = min(start + timedelta(days=RETURNS_MAX_WINDOW_DAYS), now)
            if end == now:
                # back to the oldest return Amazon has not refunded yet: its refund shows
                # on its row of a later report (60 days back at most)
                awaiting = self.env["amazon.return"].search(
                    [("seller_id", "=", self.id), ("refunded", "=", False),
                     ("return_date", ">=", now - timedelta(days=RETURNS_MAX_WINDOW_DAYS))],
                    order="return_date", limit=1)
                if awaiting and awaiting.return_date < start:
                    start = max(awaiting.return_date - timedelta(hours=1),
                                now - timedelta(days=RETURNS_MAX_WINDOW_DAYS))
            report_id = reports.request(REPORT_RETURNS, self.marketplace_ids.mapped(
                "amazon_marketplace_id"), start, end)
            self.sudo().write({"returns_report_ref": report_id, "returns_report_from": start,
                               "returns_report_to": end, "returns_last_request": now,
                               "returns_requested": False})
            return "requested"
        status = reports.status(self.returns_report_ref, REPORT_RETURNS)
        if status.state == "pending":
            return "pending"
        values = {"returns_report_ref": False}
        if status.state == "fatal":
            self.sudo().write(values)
            self.sudo().message_post(subtype_xmlid="mail.mt_note", body=_(
                "Amazon could not make the returns report of %(start)s to %(end)s (FATAL): "
                "%(error)s It is requested again at the next run.",
                start=self.returns_report_from, end=self.returns_report_to,
                error=status.error or status.error_unreadable or ""))
            return "fatal"
        if status.state == "done":
            document = reports.fetch(status.document_id, REPORT_RETURNS)
            parsed = read_returns(reports.lines(document.raw, document.compression,
                                                document.charset))
            self.env["amazon.return"]._store_returns(self, parsed)
        # DONE, or CANCELLED: Amazon had no return in the window
        values["returns_cursor"] = self.returns_report_to - RETURNS_OVERLAP
        self.sudo().write(values)
        return status.state

    def _returns_failed(self, exc):
        """``Runner`` on_error: said on the seller; a report Amazon refused is forgotten
        (the next run requests it again)."""
        self.ensure_one()
        if not self.returns_report_ref:
            self.sudo().returns_last_request = fields.Datetime.now()
        self.sudo().message_post(subtype_xmlid="mail.mt_note", body=_(
            "Importing Amazon's returns failed: %s", exc))


def _ref(message, change):
    """Amazon's NotificationId; the SQS message id for what is not a notification."""
    return (change and change.notification_id) or "sqs:" + message.message_id
