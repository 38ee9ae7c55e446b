"""Every Feeds API call goes through this adapter (2021-06-30), whatever the feed.

The life cycle in one place, for any feed type and content type:
``submit`` = ``createFeedDocument`` -> upload the bytes to the presigned URL (the
same Content-Type) -> ``createFeed``; ``status`` = ``getFeed`` mapped onto our
steps (``const.FEED_STATUS``); ``result`` = ``getFeedDocument`` + download of
the processing report (gunzip, charset). The stock export sends
``JSON_LISTINGS_FEED`` through it; the order feeds
(``POST_ORDER_ACKNOWLEDGEMENT_DATA``...) can use it as it is. Parsing a
processing report is the feed's own business (``listings_feed`` for JSON
listings feeds).
"""
from dataclasses import dataclass

import httpx
from sp_api.api import FeedsV20210630
from sp_api.base import fill_query_params, sp_endpoint

from . import errors
from .const import FEED_STATUS, REMOVED_FEED_TYPES
from .errors import _lt
from .reports_adapter import download_document


class _FeedsApi(FeedsV20210630):
    """The library's Feeds client, plus getFeedDocument answered as Amazon sends
    it ({feedDocumentId, url, compressionAlgorithm}): the library's own method
    downloads the document itself, without a timeout, retries or quota."""

    @sp_endpoint("/feeds/2021-06-30/documents/{}", method="GET")
    def get_feed_document_info(self, feedDocumentId, **kwargs):
        return self._request(fill_query_params(kwargs.pop("path"), feedDocumentId),
                             params=kwargs, add_marketplace=False)


@dataclass
class FeedStatus:
    """Where a feed stands: ``pending``, ``done``, ``cancelled`` or ``fatal``."""
    state: str
    result_document_id: str = ""
    raw_status: str = ""


class FeedsAdapter:
    def __init__(self, client):
        self.client = client

    @property
    def _api(self):
        return self.client.api(_FeedsApi)

    def submit(self, feed_type, marketplace_ids, body, content_type, options=None):
        """Upload ``body`` (bytes) and create the feed; returns Amazon's feed id."""
        if feed_type in REMOVED_FEED_TYPES:
            raise ValueError("Amazon removed the %s feed on 2025-07-31." % feed_type)
        if isinstance(body, str):
            body = body.encode("utf-8")
        document = self.client.call("createFeedDocument", self._api.create_feed_document,
                                    None, content_type).payload
        self.upload(document["url"], body, content_type)
        kwargs = {"marketplaceIds": list(marketplace_ids)}
        if options:
            kwargs["feedOptions"] = options
        res = self.client.call("createFeed", self._api.create_feed, feed_type,
                               document["feedDocumentId"], **kwargs)
        return res.payload["feedId"]

    def upload(self, url, body, content_type):
        """PUT the feed's bytes to the presigned URL (valid 5 minutes)."""
        def put():
            with httpx.Client(timeout=self.client.timeout) as http:
                response = http.put(url, content=body, headers={"Content-Type": content_type})
            if response.status_code >= 400:
                from sp_api.base.exceptions import get_exception_for_code
                raise get_exception_for_code(response.status_code)(
                    [{"code": "UploadFailed", "message": "The feed document upload answered HTTP "
                      "%s: %s" % (response.status_code, response.text[:300])}],
                    headers=response.headers)
            return response
        return self.client.call("uploadFeedDocument", put)

    def status(self, feed_id):
        """getFeed -> ``FeedStatus``."""
        feed = self.client.call("getFeed", self._api.get_feed, feed_id).payload or {}
        raw = feed.get("processingStatus")
        state = FEED_STATUS.get(raw)
        if state is None:
            raise errors.AmazonDocumentError(_lt(
                "Amazon answered an unknown feed status %(status)r for feed %(feed)s."),
                params={"status": raw, "feed": feed_id})
        return FeedStatus(state, feed.get("resultFeedDocumentId") or "", raw)

    def result(self, document_id):
        """getFeedDocument + download -> the processing report's text."""
        document = self.client.call("getFeedDocument", self._api.get_feed_document_info,
                                    document_id).payload
        return download_document(self.client, document).text
