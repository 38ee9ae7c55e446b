"""Listings Items API 2021-08-01 and Feeds API 2021-06-30 in the emulator.

What Amazon holds is kept per (seller id, marketplace, SKU): its product type
and its ``fulfillment_availability`` attribute, so a test reads the FBM
quantity Amazon would show (``Emulator.listing_quantity``). Never kinder than
Amazon (listingsItems_2021-08-01.json, feeds_2021-06-30.json and the
listings-feed schemas, copied in tests/fixtures/spapi):

- ``patchListingsItem`` needs ``productType`` and at least one patch (else 400);
  a SKU Amazon does not list, a product type other than the listing's, or a
  quantity that is not a non-negative integer is answered ``INVALID`` with an
  ``ERROR`` issue and changes nothing.
- ``getListingsItem`` of an unknown SKU is 404.
- A feed goes IN_QUEUE -> IN_PROGRESS -> DONE over polls; a JSON_LISTINGS_FEED
  document is validated against listings-feed-schema-v2 message by message, and
  its processing report carries each message's issues. ``script_next_feed``
  ("FATAL") aborts the next feed: nothing of it is applied. The upload URL
  checks the Content-Type it was created for and expires after 5 minutes.
- The XML / flat-file inventory feeds Amazon removed on 2025-07-31 are refused.
"""
import collections
import gzip
import json
import os
import secrets
import time
from datetime import datetime, timezone
from urllib.parse import unquote

USAGE_PLANS = {
    "getListingsItem": (5.0, 10), "patchListingsItem": (5.0, 5), "searchListingsItems": (5.0, 5),
    "createFeedDocument": (0.5, 15), "createFeed": (0.0083, 15), "getFeed": (2.0, 15),
    "getFeedDocument": (0.0222, 10),
}
ROLES = {"getListingsItem": "listings", "patchListingsItem": "listings",
         "searchListingsItems": "listings"}
ROUTES = [
    ("GET", r"/listings/2021-08-01/items/(?P<seller>[^/]+)", "search_listings_items",
     "searchListingsItems"),
    ("GET", r"/listings/2021-08-01/items/(?P<seller>[^/]+)/(?P<sku>[^/]+)", "get_listings_item",
     "getListingsItem"),
    ("PATCH", r"/listings/2021-08-01/items/(?P<seller>[^/]+)/(?P<sku>[^/]+)", "patch_listings_item",
     "patchListingsItem"),
    ("POST", r"/feeds/2021-06-30/documents", "create_feed_document", "createFeedDocument"),
    ("GET", r"/feeds/2021-06-30/documents/(?P<id>[^/]+)", "get_feed_document", "getFeedDocument"),
    ("POST", r"/feeds/2021-06-30/feeds", "create_feed", "createFeed"),
    ("GET", r"/feeds/2021-06-30/feeds/(?P<id>[^/]+)", "get_feed", "getFeed"),
    ("PUT", r"/feed-upload/(?P<id>[^/]+)", "upload_feed_document", None),
]
REMOVED_FEED_TYPES = {"POST_INVENTORY_AVAILABILITY_DATA", "POST_FLAT_FILE_INVLOADER_DATA",
                      "POST_PRODUCT_DATA", "POST_PRODUCT_PRICING_DATA",
                      "POST_FLAT_FILE_LISTINGS_DATA", "POST_FLAT_FILE_PRICEANDQUANTITYONLY_UPDATE_DATA"}
INCLUDED_DATA = {"summaries", "attributes", "issues", "offers", "fulfillmentAvailability",
                 "procurement", "relationships", "productTypes"}
PATCH_OPS = {"add", "replace", "merge", "delete"}
UPLOAD_TTL = 300.0
SCHEMAS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                       "tests", "fixtures", "spapi", "schemas")
_schemas = {}


def _schema(name):
    if name not in _schemas:
        with open(os.path.join(SCHEMAS, name)) as fh:
            _schemas[name] = json.load(fh)
    return _schemas[name]


def _iso(dt=None):
    return (dt or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _issue(message, code, severity="ERROR", attribute=None):
    issue = {"code": code, "message": message, "severity": severity}
    if attribute:
        issue["attributeNames"] = [attribute]
    return issue


class ListingsEmulatorMixin:
    """State and controls of listings and feeds (mixed into ``Emulator``)."""

    def _reset_listings(self):
        self.listings = {}          # (seller id or "*", marketplace, sku) -> listing
        self.feeds = {}
        self.feed_documents = {}
        self.feed_log = []          # every feed created: {feedId, feedType, messages}
        self.patch_log = []         # every accepted patch: (sku, marketplace, quantity)
        self.sku_rejections = {}    # sku -> (code, message): Amazon refuses its quantity
        self.faults.setdefault("next_feed", collections.deque())
        self.feed_processors = {"JSON_LISTINGS_FEED": _process_listings_feed}

    def add_listing(self, sku, marketplace_id="ATVPDKIKX0DER", product_type="PRODUCT",
                    seller_id="*", quantity=None, lead_time=None, asin=None):
        """Amazon lists ``sku`` (an FBM offer) in the marketplace."""
        availability = {"fulfillment_channel_code": "DEFAULT"}
        if quantity is not None:
            availability["quantity"] = quantity
        if lead_time is not None:
            availability["lead_time_to_ship_max_days"] = lead_time
        with self.lock:
            self.listings[(seller_id, marketplace_id, sku)] = {
                "productType": product_type, "asin": asin or "B0%08d" % (abs(hash(sku)) % 10 ** 8),
                "attributes": {"fulfillment_availability": [availability]},
                "created": _iso(), "updated": _iso()}

    def find_listing(self, seller_id, marketplace_id, sku):
        return (self.listings.get((seller_id, marketplace_id, sku))
                or self.listings.get(("*", marketplace_id, sku)))

    def listing_quantity(self, sku, marketplace_id="ATVPDKIKX0DER", seller_id="*"):
        """The FBM (DEFAULT channel) quantity Amazon holds, or None."""
        with self.lock:
            listing = self.find_listing(seller_id, marketplace_id, sku)
            if not listing:
                return None
            for entry in listing["attributes"].get("fulfillment_availability") or ():
                if entry.get("fulfillment_channel_code") == "DEFAULT":
                    return entry.get("quantity")
            return None

    def listing_attribute(self, sku, marketplace_id="ATVPDKIKX0DER", seller_id="*"):
        with self.lock:
            listing = self.find_listing(seller_id, marketplace_id, sku)
            return json.loads(json.dumps(listing["attributes"]["fulfillment_availability"]))

    def script_next_feed(self, outcome):
        """``DONE`` (default), ``FATAL`` (aborted, nothing applied) or ``STUCK``."""
        with self.lock:
            self.faults["next_feed"].append(outcome)

    def reject_sku(self, sku, message="The listing is suppressed: fix it in Seller Central.",
                   code="8541"):
        """Amazon answers every quantity of ``sku`` INVALID with this issue."""
        with self.lock:
            self.sku_rejections[sku] = (code, message)

    # ------------------------------------------------------------- the rules
    def _apply_patches(self, seller_id, marketplace_id, sku, product_type, patches, apply=True):
        """Amazon's checks of a patch of one listing; returns its ERROR issues
        (empty: accepted, applied when ``apply``)."""
        listing = self.find_listing(seller_id, marketplace_id, sku)
        if listing is None:
            return [_issue("The SKU '%s' does not match any listing in marketplace %s. Create "
                           "the listing before updating it." % (sku, marketplace_id), "4000001")]
        if product_type != listing["productType"]:
            return [_issue("The product type '%s' does not match the product type of the "
                           "listing ('%s')." % (product_type, listing["productType"]), "4000002")]
        if sku in self.sku_rejections:
            code, message = self.sku_rejections[sku]
            return [_issue(message, code)]
        issues = []
        for patch in patches:
            path = patch.get("path") or ""
            if not path.startswith("/attributes/") or path.count("/") != 2:
                issues.append(_issue("Only top-level attributes can be patched: '%s'." % path,
                                     "4000003"))
                continue
            name = path.split("/")[2]
            value = patch.get("value")
            if patch["op"] != "delete" and not isinstance(value, list):
                issues.append(_issue("The value of '%s' must be an array." % name, "4000003",
                                     attribute=name))
                continue
            if name == "fulfillment_availability" and patch["op"] != "delete":
                for entry in value:
                    if not isinstance(entry, dict) or not entry.get("fulfillment_channel_code"):
                        issues.append(_issue("'fulfillment_channel_code' is required but not "
                                             "supplied.", "90220", attribute=name))
                        continue
                    qty = entry.get("quantity")
                    if entry["fulfillment_channel_code"] == "DEFAULT" and (
                            isinstance(qty, bool) or not isinstance(qty, int) or qty < 0):
                        issues.append(_issue(
                            "The value '%s' of 'quantity' in 'fulfillment_availability' is not "
                            "valid: it must be an integer of 0 or more." % (qty,), "90244",
                            attribute=name))
        if issues or not apply:
            return issues
        for patch in patches:
            name = patch["path"].split("/")[2]
            current = listing["attributes"].get(name) or []
            if patch["op"] in ("add", "replace"):
                listing["attributes"][name] = json.loads(json.dumps(patch["value"]))
            elif patch["op"] == "delete":
                listing["attributes"].pop(name, None)
            else:   # merge: entries matched by channel code keep their other fields
                merged = [dict(e) for e in current]
                for entry in patch["value"]:
                    key = entry.get("fulfillment_channel_code")
                    for old in merged:
                        if key is not None and old.get("fulfillment_channel_code") == key:
                            old.update(entry)
                            break
                    else:
                        merged.append(dict(entry))
                listing["attributes"][name] = merged
            if name == "fulfillment_availability":
                for entry in listing["attributes"].get(name) or ():
                    if entry.get("fulfillment_channel_code") == "DEFAULT":
                        self.patch_log.append((sku, marketplace_id, entry.get("quantity")))
        listing["updated"] = _iso()
        return []

    def _advance_feed(self, feed):
        if feed["processingStatus"] in ("DONE", "FATAL", "CANCELLED"):
            return
        feed["_polls"] += 1
        if feed["_outcome"] == "STUCK" or feed["_polls"] < self.polls_to_done:
            feed["processingStatus"] = "IN_PROGRESS"
            feed.setdefault("processingStartTime", _iso())
            return
        feed.setdefault("processingStartTime", _iso())
        feed["processingEndTime"] = _iso()
        document = self.feed_documents.get(feed["inputFeedDocumentId"]) or {}
        body = document.get("body")
        if feed["_outcome"] == "FATAL" or body is None:
            reason = ("An internal error occurred while processing the feed; none of its "
                      "messages were applied. Submit it again." if body is not None else
                      "The feed document was never uploaded.")
            feed["processingStatus"] = "FATAL"
            fatal_report = getattr(self, "feed_fatal_reports", {}).get(feed["feedType"])
            if fatal_report:    # a feed type whose reports are not JSON (order feeds: XML)
                feed["resultFeedDocumentId"] = self._store_feed_result(
                    fatal_report(self, feed, reason), feed)
                return
            report = {"header": {"sellerId": feed["_seller"], "version": "2.0",
                                 "feedId": feed["feedId"]},
                      "issues": [{"code": "FATAL", "severity": "ERROR", "message": reason}],
                      "summary": {"errors": 1, "warnings": 0, "messagesProcessed": 0,
                                  "messagesAccepted": 0, "messagesInvalid": 0}}
            feed["resultFeedDocumentId"] = self._store_feed_result(json.dumps(report), feed)
            return
        processor = self.feed_processors.get(feed["feedType"])
        fatal, text = processor(self, feed, body) if processor else (False, None)
        feed["processingStatus"] = "FATAL" if fatal else "DONE"
        if text is not None:
            feed["resultFeedDocumentId"] = self._store_feed_result(text, feed)

    def _store_feed_result(self, text, feed):
        doc_id = "amzn1.tortuga.4.na.result.%s" % secrets.token_hex(8)
        body = text.encode("utf-8")
        compressed = self.faults["gzip"]
        if compressed:
            body = gzip.compress(body, mtime=0)
        self.documents[doc_id] = {"body": body, "charset": "UTF-8", "gzip": compressed,
                                  "reportType": "feed:" + feed["feedType"]}
        return doc_id


def _process_listings_feed(emu, feed, body):
    """A JSON_LISTINGS_FEED -> (fatal, processing report text); good messages applied."""
    import jsonschema
    header = {"sellerId": feed["_seller"], "version": "2.0", "feedId": feed["feedId"]}

    def report(issues, processed=0, accepted=0, invalid=0):
        errors = sum(1 for i in issues if i["severity"] == "ERROR")
        return json.dumps({"header": header, "issues": issues, "summary": {
            "errors": errors, "warnings": len(issues) - errors, "messagesProcessed": processed,
            "messagesAccepted": accepted, "messagesInvalid": invalid}})
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        return True, report([{"severity": "ERROR", "code": "FATAL",
                              "message": "The feed document is not valid JSON: %s" % exc}])
    schema = _schema("listings-feed-schema-v2.json")
    outer = dict(schema, properties=dict(schema["properties"], messages={"type": "array",
                                                                          "minItems": 1}))
    problems = sorted(jsonschema.Draft7Validator(outer).iter_errors(data), key=str)
    if problems:
        return True, report([{"severity": "ERROR", "code": "FATAL",
                              "message": "The feed does not follow the JSON listings feed "
                                         "schema: %s" % problems[0].message}])
    header["sellerId"] = data["header"]["sellerId"]
    item_schema = schema["properties"]["messages"]["items"]
    validator = jsonschema.Draft7Validator(item_schema)
    issues, accepted, invalid, seen = [], 0, 0, set()
    messages = data["messages"]
    if len(messages) > schema["properties"]["messages"]["maxItems"]:
        return True, report([{"severity": "ERROR", "code": "FATAL",
                              "message": "A feed carries at most 25000 messages."}])
    applied = []
    for message in messages:
        mid = message.get("messageId") if isinstance(message, dict) else None
        sku = message.get("sku") if isinstance(message, dict) else None
        found = [e.message for e in validator.iter_errors(message)]
        if not found and mid in seen:
            found = ["messageId %s is used twice in the feed." % mid]
        seen.add(mid)
        if not found and message["operationType"] != "PATCH":
            found = ["This emulator accepts PATCH messages only."]
        msg_issues = [_issue(text, "100101") for text in found]
        if not msg_issues:
            for marketplace_id in feed["marketplaceIds"]:
                msg_issues += emu._apply_patches(data["header"]["sellerId"], marketplace_id, sku,
                                                 message["productType"], message["patches"],
                                                 apply=False)
        if msg_issues:
            invalid += 1
            for issue in msg_issues:
                entry = {"severity": issue["severity"], "code": issue["code"],
                         "message": issue["message"]}
                if isinstance(mid, int) and mid >= 1:
                    entry["messageId"] = mid
                if sku:
                    entry["sku"] = sku
                if issue.get("attributeNames"):
                    entry["attributeName"] = issue["attributeNames"][0]
                issues.append(entry)
            continue
        accepted += 1
        applied.append(message)
    for message in applied:
        for marketplace_id in feed["marketplaceIds"]:
            emu._apply_patches(data["header"]["sellerId"], marketplace_id, message["sku"],
                               message["productType"], message["patches"])
    emu.feed_log.append({"feedId": feed["feedId"], "feedType": feed["feedType"],
                         "messages": len(messages)})
    return False, report(issues, processed=len(messages), accepted=accepted, invalid=invalid)


class ListingsHandlerMixin:
    """HTTP handlers (mixed into the emulator's request handler)."""

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def _marketplaces(self):
        raw = ",".join(self.query.get("marketplaceIds") or [])
        return [m for m in raw.split(",") if m]

    def h_get_listings_item(self, seller, sku):
        emu = self.emulator
        sku = unquote(sku)
        marketplaces = self._marketplaces()
        if not marketplaces:
            return self._error(400, "InvalidInput", "Missing required parameter: marketplaceIds")
        included = [d for d in ",".join(self.query.get("includedData") or ["summaries"]).split(",") if d]
        unknown = [d for d in included if d not in INCLUDED_DATA]
        if unknown:
            return self._error(400, "InvalidInput", "Invalid includedData: %s" % ", ".join(unknown))
        found = [(m, emu.find_listing(seller, m, sku)) for m in marketplaces]
        found = [(m, listing) for m, listing in found if listing]
        if not found:
            return self._error(404, "NOT_FOUND", "SKU '%s' not found in marketplace %s"
                               % (sku, ",".join(marketplaces)))
        body = {"sku": sku}
        if "summaries" in included:
            body["summaries"] = [self._summary(m, sku, listing) for m, listing in found]
        if "attributes" in included:
            body["attributes"] = found[0][1]["attributes"]
        if "fulfillmentAvailability" in included:
            body["fulfillmentAvailability"] = [
                {k: v for k, v in (("fulfillmentChannelCode", e["fulfillment_channel_code"]),
                                   ("quantity", e.get("quantity"))) if v is not None}
                for e in found[0][1]["attributes"].get("fulfillment_availability") or ()]
        if "issues" in included:
            body["issues"] = []
        self._send(200, body)

    def _summary(self, marketplace_id, sku, listing):
        return {"marketplaceId": marketplace_id, "asin": listing["asin"],
                "productType": listing["productType"], "conditionType": "new_new",
                "status": ["BUYABLE", "DISCOVERABLE"], "itemName": "Emulated item %s" % sku,
                "createdDate": listing["created"], "lastUpdatedDate": listing["updated"]}

    def h_search_listings_items(self, seller):
        emu = self.emulator
        marketplaces = self._marketplaces()
        if len(marketplaces) != 1:
            return self._error(400, "InvalidInput", "marketplaceIds: exactly one marketplace id.")
        q = {k: v[0] for k, v in self.query.items()}
        identifiers = [i for i in ",".join(self.query.get("identifiers") or []).split(",") if i]
        if identifiers and q.get("identifiersType") != "SKU":
            return self._error(400, "InvalidInput", "identifiersType is required with identifiers "
                               "(this emulator knows SKU).")
        if len(identifiers) > 20:
            return self._error(400, "InvalidInput", "identifiers: at most 20 values.")
        try:
            size = int(q.get("pageSize") or 10)
            offset = int(q.get("pageToken") or 0)
        except ValueError:
            return self._error(400, "InvalidInput", "pageSize and pageToken must be numbers.")
        if not 1 <= size <= 20:
            return self._error(400, "InvalidInput", "pageSize: 1 to 20.")
        marketplace_id = marketplaces[0]
        if identifiers:
            skus = [s for s in identifiers if emu.find_listing(seller, marketplace_id, s)]
        else:
            skus = sorted({k[2] for k in emu.listings if k[1] == marketplace_id and k[0] in ("*", seller)})
        page = skus[offset:offset + size]
        body = {"numberOfResults": len(skus), "items": [
            {"sku": s, "summaries": [self._summary(marketplace_id, s, emu.find_listing(
                seller, marketplace_id, s))]} for s in page]}
        if offset + size < len(skus):
            body["pagination"] = {"nextToken": str(offset + size)}
        self._send(200, body)

    def h_patch_listings_item(self, seller, sku):
        emu = self.emulator
        sku = unquote(sku)
        marketplaces = self._marketplaces()
        if not marketplaces:
            return self._error(400, "InvalidInput", "Missing required parameter: marketplaceIds")
        try:
            data = json.loads(self.body or b"null")
        except ValueError:
            return self._error(400, "InvalidInput", "The request body is not valid JSON.")
        if not isinstance(data, dict) or not data.get("productType"):
            return self._error(400, "InvalidInput", "Missing required property: productType")
        patches = data.get("patches")
        if not isinstance(patches, list) or not patches:
            return self._error(400, "InvalidInput", "'patches' must hold at least one operation.")
        for patch in patches:
            if not isinstance(patch, dict) or patch.get("op") not in PATCH_OPS or not patch.get("path"):
                return self._error(400, "InvalidInput",
                                   "Each patch needs 'op' (add, replace, merge, delete) and 'path'.")
        preview = (self.query.get("mode") or [""])[0] == "VALIDATION_PREVIEW"
        issues = []
        for marketplace_id in marketplaces:
            issues += emu._apply_patches(seller, marketplace_id, sku, data["productType"], patches,
                                         apply=False)
        if not issues and not preview:
            for marketplace_id in marketplaces:
                emu._apply_patches(seller, marketplace_id, sku, data["productType"], patches)
        status = "INVALID" if issues else ("VALID" if preview else "ACCEPTED")
        self._send(200, {"sku": sku, "status": status, "submissionId": secrets.token_hex(16),
                         "issues": issues})

    def h_create_feed_document(self):
        emu = self.emulator
        try:
            data = json.loads(self.body or b"null")
        except ValueError:
            return self._error(400, "InvalidInput", "The request body is not valid JSON.")
        if not isinstance(data, dict) or not data.get("contentType"):
            return self._error(400, "InvalidInput", "Missing required property: contentType")
        doc_id = "amzn1.tortuga.4.na.%s.T%s" % (secrets.token_hex(12), emu._new_id())
        emu.feed_documents[doc_id] = {"contentType": data["contentType"], "body": None,
                                      "created": time.monotonic()}
        self._send(201, {"feedDocumentId": doc_id, "url": "%s/feed-upload/%s" % (emu.url, doc_id)})

    def h_upload_feed_document(self, id):
        emu = self.emulator
        doc = emu.feed_documents.get(id)
        if doc is None or time.monotonic() - doc["created"] > UPLOAD_TTL:
            return self._send(403, raw=b"<Error><Code>AccessDenied</Code><Message>Request has "
                              b"expired</Message></Error>", content_type="application/xml")
        if (self.headers.get("Content-Type") or "") != doc["contentType"]:
            return self._send(403, raw=b"<Error><Code>SignatureDoesNotMatch</Code><Message>The "
                              b"Content-Type is not the one the URL was signed for</Message>"
                              b"</Error>", content_type="application/xml")
        doc["body"] = self.body
        emu.calls["uploadFeedDocument"] += 1
        self._send(200, raw=b"", content_type="text/plain")

    def h_create_feed(self):
        emu = self.emulator
        try:
            data = json.loads(self.body or b"null")
        except ValueError:
            return self._error(400, "InvalidInput", "The request body is not valid JSON.")
        if not isinstance(data, dict):
            return self._error(400, "InvalidInput", "The request body must be an object.")
        missing = [k for k in ("feedType", "marketplaceIds", "inputFeedDocumentId") if not data.get(k)]
        if missing:
            return self._error(400, "InvalidInput", "Missing required property: %s" % ", ".join(missing))
        if not isinstance(data["marketplaceIds"], list) or len(data["marketplaceIds"]) > 25:
            return self._error(400, "InvalidInput", "marketplaceIds: 1 to 25 marketplace ids.")
        if data["feedType"] in REMOVED_FEED_TYPES:
            return self._error(400, "InvalidInput", "Feed type %s is no longer supported: use "
                               "JSON_LISTINGS_FEED or the Listings Items API." % data["feedType"])
        if data["inputFeedDocumentId"] not in emu.feed_documents:
            return self._error(400, "InvalidInput", "Invalid inputFeedDocumentId: %s"
                               % data["inputFeedDocumentId"])
        if data["feedType"] == "JSON_LISTINGS_FEED" and \
                "listings" not in emu.refresh_tokens[self.principal]["roles"]:
            return self._error(403, "Unauthorized", "Access to requested resource is denied.",
                               "The application lacks the Product Listing role.")
        feed_id = emu._new_id()
        outcome = emu.faults["next_feed"].popleft() if emu.faults["next_feed"] else "DONE"
        emu.feeds[feed_id] = {
            "feedId": feed_id, "feedType": data["feedType"], "marketplaceIds": data["marketplaceIds"],
            "createdTime": _iso(), "processingStatus": "IN_QUEUE",
            "inputFeedDocumentId": data["inputFeedDocumentId"], "_polls": 0, "_outcome": outcome,
            "_seller": "A2EMULATEDSELLER"}
        self._send(202, {"feedId": feed_id})

    def h_get_feed(self, id):
        emu = self.emulator
        feed = emu.feeds.get(id)
        if not feed:
            return self._error(404, "NotFound", "Feed %s not found" % id)
        emu._advance_feed(feed)
        self._send(200, {k: v for k, v in feed.items()
                         if not k.startswith("_") and k != "inputFeedDocumentId" and v is not None})

    def h_get_feed_document(self, id):
        emu = self.emulator
        doc = emu.documents.get(id)
        if not doc or not str(doc.get("reportType", "")).startswith("feed:"):
            return self._error(404, "NotFound", "Feed document %s not found" % id)
        body = {"feedDocumentId": id, "url": "%s/download/%s" % (emu.url, id)}
        if doc["gzip"]:
            body["compressionAlgorithm"] = "GZIP"
        self._send(200, body)
