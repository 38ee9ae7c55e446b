"""Every Listings Items API call goes through this adapter (2021-08-01).

Two operations serve the FBM stock export:

- ``product_type(sku, marketplace_id)``: ``getListingsItem`` with
  ``includedData=summaries``, read once per SKU (the caller stores it), because
  ``patchListingsItem`` needs the listing's Amazon product type. A SKU Amazon
  does not list in that marketplace raises ``ListingNotFound``.
  ``product_types(skus, ...)`` reads them 20 at a time (``searchListingsItems``
  by SKU) for a feed of many SKUs.
- ``set_quantity(...)``: ``patchListingsItem`` with one JSON Patch ``merge`` on
  ``/attributes/fulfillment_availability`` (``fulfillment_channel_code``
  ``DEFAULT``, ``quantity``): ``merge`` keeps the offer's other
  fulfillment fields (handling time, restock date), which ``replace`` would drop.

Amazon answers a patch with ``ACCEPTED`` or ``INVALID`` and its issues;
``Submission`` carries both, with the issues as the seller reads them.
"""
from dataclasses import dataclass, field

from sp_api.api import ListingsItemsV20210801

from . import errors
from .const import FULFILLMENT_AVAILABILITY_PATH, FULFILLMENT_CHANNEL_DEFAULT
from .errors import _lt

SEARCH_PAGE = 20    # searchListingsItems: at most 20 identifiers and 20 results a page


class ListingNotFound(errors.AmazonRequestError):
    """Amazon has no listing of this SKU in this marketplace (getListingsItem 404)."""


@dataclass
class Issue:
    severity: str
    message: str
    code: str = ""

    def __str__(self):
        return "%s%s" % ("[%s] " % self.code if self.code else "", self.message)


@dataclass
class Submission:
    """Amazon's answer to one patch: ``accepted`` or not, with its issues."""
    status: str
    submission_id: str = ""
    issues: list = field(default_factory=list)

    @property
    def accepted(self):
        return self.status == "ACCEPTED"

    @property
    def errors(self):
        return [i for i in self.issues if i.severity == "ERROR"]


def fulfillment_patch(quantity, op="merge"):
    """The JSON Patch that sets the FBM quantity (also a feed message's ``patches``)."""
    quantity = int(quantity)
    if quantity < 0:
        raise ValueError("a quantity sent to Amazon is never negative (%s)" % quantity)
    return [{"op": op, "path": FULFILLMENT_AVAILABILITY_PATH,
             "value": [{"fulfillment_channel_code": FULFILLMENT_CHANNEL_DEFAULT,
                        "quantity": quantity}]}]


def issues_of(raw):
    return [Issue(i.get("severity") or "ERROR", i.get("message") or "", i.get("code") or "")
            for i in raw or ()]


class ListingsAdapter:
    def __init__(self, client, seller_id):
        if not seller_id:
            raise errors.AmazonRequestError(_lt(
                "The seller's Merchant (Seller) ID is empty: the Listings Items API needs it. "
                "Copy your Merchant Token from Seller Central (Settings > Account Info) into "
                "the seller."))
        self.client = client
        self.seller_id = seller_id

    @property
    def _api(self):
        return self.client.api(ListingsItemsV20210801)

    def product_type(self, sku, marketplace_id):
        """The listing's Amazon product type in the marketplace (getListingsItem, summaries)."""
        try:
            res = self.client.call("getListingsItem", self._api.get_listings_item,
                                   self.seller_id, sku, marketplaceIds=marketplace_id,
                                   includedData="summaries")
        except errors.AmazonRequestError as exc:
            if exc.status == 404:
                raise ListingNotFound(
                    "Amazon has no listing for SKU %s in marketplace %s." % (sku, marketplace_id),
                    operation="getListingsItem", status=404,
                    amazon_code=exc.amazon_code) from None
            raise
        payload = res.payload or {}
        summaries = payload.get("summaries") or []
        for summary in summaries:
            if summary.get("marketplaceId") == marketplace_id and summary.get("productType"):
                return summary["productType"]
        for summary in summaries:
            if summary.get("productType"):
                return summary["productType"]
        raise ListingNotFound(
            "Amazon lists SKU %s but gives no product type for marketplace %s." % (
                sku, marketplace_id), operation="getListingsItem", status=404)

    def product_types(self, skus, marketplace_id):
        """The product types of many SKUs, 20 a call (searchListingsItems by SKU,
        summaries): ``{sku: product type}``; a SKU Amazon does not list is absent.
        A first export of 10,000 SKUs reads them in 500 calls instead of 10,000."""
        found = {}
        skus = list(dict.fromkeys(skus))
        for start in range(0, len(skus), SEARCH_PAGE):
            chunk = skus[start:start + SEARCH_PAGE]
            res = self.client.call("searchListingsItems", self._api.search_listings_items,
                                   self.seller_id, marketplaceIds=marketplace_id,
                                   identifiers=",".join(chunk), identifiersType="SKU",
                                   includedData="summaries", pageSize=SEARCH_PAGE)
            for item in (res.payload or {}).get("items") or ():
                types = [s.get("productType") for s in item.get("summaries") or ()
                         if s.get("productType") and s.get("marketplaceId") in (marketplace_id, None)]
                if item.get("sku") in chunk and types:
                    found[item["sku"]] = types[0]
        return found

    def set_quantity(self, sku, marketplace_id, product_type, quantity):
        """patchListingsItem: the FBM quantity of one SKU -> ``Submission``."""
        body = {"productType": product_type, "patches": fulfillment_patch(quantity)}
        res = self.client.call("patchListingsItem", self._api.patch_listings_item,
                               self.seller_id, sku, marketplaceIds=marketplace_id, body=body)
        payload = res.payload or {}
        return Submission(payload.get("status") or "INVALID", payload.get("submissionId") or "",
                          issues_of(payload.get("issues")))
