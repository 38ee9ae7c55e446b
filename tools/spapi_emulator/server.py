"""The emulator's HTTP server (stdlib ``ThreadingHTTPServer`` on 127.0.0.1)."""
import base64
import collections
import gzip
import json
import os
import re
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import authorization, listings, order_feeds, returns, settlements, shipments
from .notifications import GRANTLESS_OPERATIONS, NOTIFICATION_USAGE_PLANS, NotificationsHandlerMixin, NotificationsState
from .notifications import ROUTES as NOTIFICATION_ROUTES
from .orders_2026 import Orders2026Mixin
from .scenario import Scenario, iso

# Amazon's default usage plans (requests per second, burst).
USAGE_PLANS = {
    "getOrders": (0.0167, 20), "getOrder": (0.5, 30), "getOrderItems": (0.5, 30),
    "confirmShipment": (2.0, 10), "createReport": (0.0167, 15), "getReport": (2.0, 15),
    "getReportDocument": (0.0167, 15), "createRestrictedDataToken": (1.0, 10),
    "getMarketplaceParticipations": (0.016, 15),
    "getOrderAddress": (0.5, 30), "getOrderBuyerInfo": (0.5, 30),
    "searchOrders": (0.0056, 20), "getOrder2026": (0.5, 30),
}
USAGE_PLANS["getReports"] = (0.0222, 10)   # settlements (tools/spapi_emulator/settlements.py)
UNSHIPPED = "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING"
ALL_ORDERS = ("GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
              "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL")
RESTRICTED = {UNSHIPPED}
ALL_ROLES = {"orders", "reports", "buyer_pii", "sellers"}
# Listings Items and Feeds (stock export): tools/spapi_emulator/listings.py.
USAGE_PLANS.update(listings.USAGE_PLANS)
USAGE_PLANS.update(NOTIFICATION_USAGE_PLANS)
ALL_ROLES.add("listings")


class _Bucket:
    def __init__(self, rate, burst):
        self.rate, self.burst, self.tokens, self.stamp = rate, burst, float(burst), time.monotonic()

    def take(self):
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Emulator(listings.ListingsEmulatorMixin, NotificationsState, authorization.AuthorizationState):
    """Run with ``start()`` / ``stop()`` (or as a context manager).

    ``rate_scale`` multiplies Amazon's rates (bursts unchanged), so a test
    keeps the shape of the limits without waiting minutes for a token.
    """

    def __init__(self, scenario=None, *, host="127.0.0.1", port=0, rate_scale=1.0,
                 client_id="amzn1.application-oa2-client.demo", client_secret="demo-secret",
                 refresh_token="Atzr|demo-refresh-token", polls_to_done=2, enforce_limits=True,
                 v0_reads_retired=False, sqs_endpoint=None, merchant_id="A2TESTMERCHANT",
                 check_queues=True):
        self.scenario = scenario or Scenario()
        # Notifications: the SQS server Amazon delivers to (empty: AWS itself).
        self.sqs_endpoint = sqs_endpoint or os.environ.get("AMAZON_FBM_SQS_ENDPOINT") or None
        self.merchant_id = merchant_id
        self.check_queues = check_queues
        self.host, self.port = host, port
        self.rate_scale = rate_scale
        self.enforce_limits = enforce_limits
        # True: the Orders API v0 reads answer as after Amazon retires them (2027-03-27).
        self.v0_reads_retired = v0_reads_retired
        self.apps = {client_id: client_secret}
        self.refresh_tokens = {refresh_token: {"client_id": client_id, "roles": set(ALL_ROLES),
                                               "revoked": False}}
        self.polls_to_done = polls_to_done
        self.lock = threading.RLock()
        # SP-API applications (website authorization workflow): tools/spapi_emulator/authorization.py.
        self.applications = {}
        self.register_application()
        self.reset_state()
        self._server = None
        self._thread = None

    # ----------------------------------------------------------------- control
    def reset_state(self):
        with self.lock:
            self.access_tokens = {}      # token -> refresh token
            self.rdts = {}               # token -> (refresh token, resources)
            self.reports = {}
            self.documents = {}
            self.buckets = {}
            self.usage_plans = {}        # (refresh token or None, operation) -> (rate, burst)
            self.calls = collections.Counter()
            self.throttled = collections.Counter()
            self.faults = {"server_errors": collections.Counter(), "latency": 0.0,
                           "truncate_documents": False, "truncate_downloads": 0,
                           "charset": "UTF-8",
                           "next_report": collections.deque(), "gzip": True,
                           "price_report_lag_minutes": 0, "call_log": False,
                           # a report without the columns its options asked for
                           "ignore_report_options": False, "slow": {},
                           # the next N document URLs getReportDocument issues serve a
                           # truncated file at every download (a damaged copy cached
                           # behind that URL); a fresh URL serves the document whole
                           "damaged_urls": 0}
            self.damaged_signatures = set()
            self.call_times = collections.defaultdict(list)
            self.throttle_times = collections.defaultdict(list)
            self._next_id = 50000
            self._reset_listings()
            # Order feeds (cancellations): tools/spapi_emulator/order_feeds.py.
            self.feed_processors[order_feeds.FEED_TYPE] = order_feeds.process
            self.feed_processors[order_feeds.ADJUSTMENT_FEED_TYPE] = order_feeds.process_adjustments
            self.feed_fatal_reports = {order_feeds.FEED_TYPE: order_feeds.fatal_report,
                                       order_feeds.ADJUSTMENT_FEED_TYPE: order_feeds.fatal_report}
            self.reset_notifications()
            self.reset_authorization()
            self.returns = []            # FBM returns (tools/spapi_emulator/returns.py)
            self._returns_seq = 0

    def add_settlement(self, order_ids=(), *, created=None, **kw):
        """Amazon closes a settlement of the scenario's orders (``settlements.build_settlement``
        for the arguments): a DONE report of ``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2``,
        listed by getReports. Returns (report id, ``SettlementBuilder``)."""
        with self.lock:
            return settlements.add_settlement(self, order_ids, created=created, **kw)

    def add_return(self, order_id, items=None, **kw):
        """A buyer returns items of an order (one RMA), found by the returns report
        ``GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE`` (``returns.add_return`` for the
        arguments). Returns the Amazon RMA id."""
        with self.lock:
            return returns.add_return(self, order_id, items, **kw)

    def refund_return(self, rma_id, refunded="full", delivered=None):
        """Amazon refunds an RMA after the report first listed it (``returns.refund_return``)."""
        with self.lock:
            returns.refund_return(self, rma_id, refunded, delivered)

    def reset_quota(self):
        """Full buckets and zero counters, keeping reports and documents."""
        with self.lock:
            self.buckets = {}
            self.calls = collections.Counter()
            self.throttled = collections.Counter()
            self.call_times = collections.defaultdict(list)
            self.throttle_times = collections.defaultdict(list)

    def slow_next(self, operation, count=1, seconds=2.0):
        """The next ``count`` calls of ``operation`` answer only after ``seconds``."""
        with self.lock:
            self.faults["slow"][operation] = (count, seconds)

    def fail_next(self, operation, count=1, status=503):
        """The next ``count`` calls of ``operation`` answer ``status`` (429 is
        QuotaExceeded). ``lwaToken`` is the LWA login; ``download`` a document."""
        with self.lock:
            self.faults["server_errors"][(operation, status)] += count

    def set_usage_plan(self, operation, rate, burst=None, refresh_token=None):
        """Grant a seller (or everyone) another usage plan for ``operation``; Amazon
        then says the rate in ``x-amzn-RateLimit-Limit``."""
        with self.lock:
            burst = USAGE_PLANS[operation][1] if burst is None else burst
            self.usage_plans[(refresh_token, operation)] = (rate, burst)
            for key in [k for k in self.buckets if k[1] == operation]:
                del self.buckets[key]

    def plan(self, principal, operation):
        with self.lock:
            return (self.usage_plans.get((principal, operation))
                    or self.usage_plans.get((None, operation)) or USAGE_PLANS[operation])

    def script_next_report(self, outcome):
        """``DONE`` (default), ``FATAL``, ``FATAL_WITH_DOCUMENT``, ``CANCELLED`` or ``STUCK``."""
        with self.lock:
            self.faults["next_report"].append(outcome)

    # Shipments and cancellations (tools/spapi_emulator/shipments.py).
    def packages(self, order_id):
        """The packages Amazon recorded for an order, by packageReferenceId."""
        with self.lock:
            return dict(self.scenario.orders[order_id].get("packages") or {})

    def cancel_order(self, order_id, by="BUYER", reason="Buyer cancelled"):
        with self.lock:
            shipments.cancel_order(self.scenario.orders[order_id], by=by, reason=reason)

    def cancel_item(self, order_id, order_item_id, quantity=None, by="MERCHANT", reason="Out of stock"):
        with self.lock:
            shipments.cancel_item(self.scenario.orders[order_id], order_item_id, quantity=quantity,
                                  by=by, reason=reason)

    def request_cancellation(self, order_id, reason="Ordered by mistake", order_item_id=None):
        """A buyer asks to cancel the order (or one item); the seller decides."""
        with self.lock:
            shipments.request_cancellation(self.scenario.orders[order_id], reason=reason,
                                           order_item_id=order_item_id)

    def decline_cancellation(self, order_id):
        with self.lock:
            shipments.decline_cancellation(self.scenario.orders[order_id])

    def add_refresh_token(self, token, client_id=None, roles=None, revoked=False):
        self.refresh_tokens[token] = {"client_id": client_id or next(iter(self.apps)),
                                      "roles": set(ALL_ROLES if roles is None else roles), "revoked": revoked}

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    def start(self):
        emulator = self

        class Handler(_Handler):
            pass
        Handler.emulator = emulator
        self._server = _Server((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="spapi-emulator")
        self._thread.start()
        return self

    def stop(self):
        self.stop_publisher()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def serve_forever(self):
        self.start()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            self.stop()

    def _new_id(self):
        self._next_id += 1
        return str(self._next_id)

    # ------------------------------------------------------------- report jobs
    def _advance(self, report):
        """Each poll moves a report one step; content is fixed when it is DONE."""
        if report["processingStatus"] in ("DONE", "FATAL", "CANCELLED"):
            return
        report["_polls"] += 1
        outcome = report["_outcome"]
        if outcome == "STUCK":
            report["processingStatus"] = "IN_PROGRESS"
            return
        if report["_polls"] < self.polls_to_done:
            report["processingStatus"] = "IN_PROGRESS"
            return
        report["processingEndTime"] = iso(datetime.now(timezone.utc))
        if outcome == "FATAL":
            report["processingStatus"] = "FATAL"
            return
        if outcome == "CANCELLED":
            report["processingStatus"] = "CANCELLED"
            return
        if outcome == "FATAL_WITH_DOCUMENT":
            report["processingStatus"] = "FATAL"
            text = json.dumps({"errorDetails": "Report request could not be processed: more than "
                               "one identical request was submitted in a short time."})
            report["reportDocumentId"] = self._store_document(text, report, error=True)
            return
        text = self._report_text(report)
        if text is None:
            report["processingStatus"] = "CANCELLED"
            return
        report["processingStatus"] = "DONE"
        report["reportDocumentId"] = self._store_document(text, report)

    def _report_text(self, report):
        start = _dt(report.get("dataStartTime")) or datetime.now(timezone.utc) - timedelta(days=30)
        end = _dt(report.get("dataEndTime")) or datetime.now(timezone.utc)
        if report["reportType"] == UNSHIPPED:
            entries = self.scenario.select(marketplace_ids=report["marketplaceIds"], start=start,
                                           end=end, statuses=("Unshipped", "PartiallyShipped"),
                                           channels=("MFN",))
            extra = self.faults.get("extra_unshipped_rows") or []
            if not entries and not extra:
                return None
            # The sales-channel column only when asked (reportOptions ShowSalesChannel);
            # injected rows are written for the documented header and get its cell.
            show = str(report["_options"].get("ShowSalesChannel", "")).lower() == "true" \
                and not self.faults["ignore_report_options"]
            if show:
                extra = [row + "\t" if row.count("\t") == 26 else row for row in extra]
            return self.scenario.unshipped_report(entries, show) + "".join(row + "\n" for row in extra)
        if report["reportType"] in ALL_ORDERS:
            lag = self.faults["price_report_lag_minutes"]
            if lag:
                end = min(end, datetime.now(timezone.utc) - timedelta(minutes=lag))
            if report["reportType"].endswith("_BY_LAST_UPDATE_GENERAL"):
                entries = self.scenario.select(marketplace_ids=report["marketplaceIds"],
                                               updated_after=start, updated_before=end)
            else:
                entries = self.scenario.select(marketplace_ids=report["marketplaceIds"], start=start,
                                               end=end)
            return self.scenario.all_orders_report(entries) if entries else None
        if report["reportType"] == returns.REPORT_RETURNS:
            return returns.returns_text(self, report, start, end)
        return None

    def _store_document(self, text, report, error=False):
        doc_id = "amzn1.spdoc.1.4.na.%s.T%s.1" % (secrets.token_hex(8), report["reportId"])
        charset = self.faults["charset"]
        body = text.encode(charset)
        compressed = self.faults["gzip"] and not error
        if compressed:
            body = gzip.compress(body, mtime=0)
        if self.faults["truncate_documents"] and not error:
            body = body[: max(10, len(body) // 2)]
        self.documents[doc_id] = {"body": body, "charset": charset, "gzip": compressed,
                                  "reportType": report["reportType"]}
        return doc_id


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A client that gave up (timeout) closed the socket: not the emulator's error.
        import sys
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class _Handler(listings.ListingsHandlerMixin, NotificationsHandlerMixin, Orders2026Mixin,
               authorization.AuthorizationHandlerMixin, BaseHTTPRequestHandler):
    emulator = None
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output quiet
        pass

    # ---------------------------------------------------------------- plumbing
    def _send(self, status, body=None, headers=None, raw=None, content_type="application/json"):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", secrets.token_hex(8))
        if getattr(self, "rate_limit_header", None):
            # Amazon's usage plan for this seller and operation, unscaled.
            self.send_header("x-amzn-RateLimit-Limit", self.rate_limit_header)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status, code, message, details=""):
        self._send(status, {"errors": [{"code": code, "message": message, "details": details}]})

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    ROUTES = [
        ("POST", r"/auth/o2/token", "lwa_token", None),
        ("GET", r"/sellers/v1/marketplaceParticipations", "participations", "getMarketplaceParticipations"),
        ("POST", r"/tokens/2021-03-01/restrictedDataToken", "create_rdt", "createRestrictedDataToken"),
        ("POST", r"/reports/2021-06-30/reports", "create_report", "createReport"),
        ("GET", r"/reports/2021-06-30/reports/(?P<id>[^/]+)", "get_report", "getReport"),
        ("GET", r"/reports/2021-06-30/reports", "get_reports", "getReports"),
        ("GET", r"/reports/2021-06-30/documents/(?P<id>[^/]+)", "get_report_document", "getReportDocument"),
        ("GET", r"/download/(?P<id>[^/]+)", "download", None),
        ("GET", r"/orders/v0/orders", "get_orders", "getOrders"),
        ("GET", r"/orders/v0/orders/(?P<id>[^/]+)/orderItems", "get_order_items", "getOrderItems"),
        ("GET", r"/orders/v0/orders/(?P<id>[^/]+)/address", "get_order_address", "getOrderAddress"),
        ("GET", r"/orders/v0/orders/(?P<id>[^/]+)/buyerInfo", "get_order_buyer_info", "getOrderBuyerInfo"),
        ("GET", r"/orders/2026-01-01/orders", "search_orders", "searchOrders"),
        ("GET", r"/orders/2026-01-01/orders/(?P<id>[^/]+)", "get_order_2026", "getOrder2026"),
        ("GET", r"/orders/v0/orders/(?P<id>[^/]+)", "get_order", "getOrder"),
        ("POST", r"/orders/v0/orders/(?P<id>[^/]+)/shipmentConfirmation", "confirm_shipment", "confirmShipment"),
        ("GET", r"/_emulator/stats", "stats", None),
        ("POST", r"/_emulator/settlements", "close_settlement", None),
    ] + listings.ROUTES + NOTIFICATION_ROUTES + authorization.ROUTES

    def _dispatch(self, method):
        emu = self.emulator
        self.rate_limit_header = None
        parts = urlsplit(self.path)
        self.query = dict(parse_qs(parts.query, keep_blank_values=True).items())
        for route_method, pattern, name, operation in self.ROUTES:  # noqa: B007
            match = re.fullmatch(pattern, parts.path)
            if route_method == method and match:
                break
        else:
            return self._error(404, "NotFound", "Resource not found: %s %s" % (method, parts.path))
        self.body = self._body()
        if emu.faults["latency"]:
            time.sleep(emu.faults["latency"])
        fault_name = operation or ("lwaToken" if name == "lwa_token" else name)
        with emu.lock:
            slow = emu.faults["slow"].get(fault_name)
            if slow and slow[0] > 0:
                emu.faults["slow"][fault_name] = (slow[0] - 1, slow[1])
        if slow and slow[0] > 0:
            time.sleep(slow[1])     # longer than the client waits: a timeout
        with emu.lock:
            for (op, status), left in list(emu.faults["server_errors"].items()):
                if op == fault_name and left > 0:
                    emu.faults["server_errors"][(op, status)] -= 1
                    emu.calls["fault:%s:%s" % (op, status)] += 1
                    if status == 429:
                        return self._error(429, "QuotaExceeded",
                                           "You exceeded your quota for the requested resource.")
                    if fault_name == "lwaToken":
                        return self._send(status, raw=b"<html><body>Service Unavailable</body></html>",
                                          content_type="text/html")
                    return self._error(status, "InternalFailure" if status == 500 else "ServiceUnavailable",
                                       "We encountered an internal error. Please try again.")
        if operation:
            with emu.lock:
                emu.calls[operation] += 1
                emu.call_times[operation].append(time.monotonic())
            if self._v0_retired(operation):
                return None
            principal = self._grantless_principal() if operation in GRANTLESS_OPERATIONS \
                else self._authorize(parts.path, operation)
            if principal is None:
                return None
            self.rate_limit_header = "%g" % emu.plan(principal, operation)[0]
            if emu.enforce_limits and not self._take(principal, operation):
                with emu.lock:
                    emu.throttled[operation] += 1
                    emu.throttle_times[operation].append(time.monotonic())
                return self._send(429, {"errors": [{
                    "code": "QuotaExceeded",
                    "message": "You exceeded your quota for the requested resource.",
                    "details": ""}]})
            self.principal = principal
        with emu.lock:
            return getattr(self, "h_" + name)(**match.groupdict())

    def _take(self, principal, operation):
        emu = self.emulator
        with emu.lock:
            key = (principal, operation)
            bucket = emu.buckets.get(key)
            if bucket is None:
                rate, burst = emu.plan(principal, operation)
                bucket = emu.buckets[key] = _Bucket(rate * emu.rate_scale, burst)
            return bucket.take()

    def _authorize(self, path, operation):
        """Returns the refresh token behind the request, or answers 403."""
        emu = self.emulator
        token = self.headers.get("x-amz-access-token", "")
        with emu.lock:
            if token in emu.access_tokens:
                refresh = emu.access_tokens[token]
                resources = None
            elif token in emu.rdts:
                refresh, resources = emu.rdts[token]
            else:
                self._error(403, "Unauthorized", "Access to requested resource is denied.",
                            "The access token you provided is revoked, malformed or invalid.")
                return None
            info = emu.refresh_tokens[refresh]
        role = {"getMarketplaceParticipations": "sellers", "createReport": "reports",
                "getReport": "reports", "getReportDocument": "reports",
                "getReports": "reports", **listings.ROLES}.get(operation, "orders")
        if role not in info["roles"]:
            self._error(403, "Unauthorized", "Access to requested resource is denied.",
                        "The application does not have the role required for %s." % operation)
            return None
        self.rdt_resources = resources
        return refresh

    def _pii_allowed(self, path, element=None):
        for res in self.rdt_resources or []:
            pattern = re.escape(res["path"]).replace(r"\{orderId\}", "[^/]+")
            if re.fullmatch(pattern, path) and (element is None or element in res.get("dataElements", [])):
                return True
        return False

    # ---------------------------------------------------------------- handlers
    def h_lwa_token(self):
        emu = self.emulator
        form = {k: v[0] for k, v in parse_qs(self.body.decode()).items()}
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if emu.apps.get(client_id) != secret:
            return self._send(401, {"error": "invalid_client",
                                    "error_description": "Client authentication failed"})
        if form.get("grant_type") == "client_credentials":
            return self.lwa_client_credentials(form)
        if form.get("grant_type") == "authorization_code":
            return self.lwa_authorization_code(form)
        info = emu.refresh_tokens.get(form.get("refresh_token"))
        if form.get("grant_type") != "refresh_token" or not info or info["revoked"] \
                or info["client_id"] != client_id:
            return self._send(400, {"error": "invalid_grant",
                                    "error_description": "The request has an invalid grant parameter : refresh_token"})
        token = "Atza|" + secrets.token_urlsafe(24)
        emu.access_tokens[token] = form["refresh_token"]
        self._send(200, {"access_token": token, "refresh_token": form["refresh_token"],
                         "token_type": "bearer", "expires_in": 3600})

    def h_participations(self):
        emu = self.emulator
        ids = getattr(emu.scenario, "participations", None) or \
            sorted({e["order"]["MarketplaceId"] for e in emu.scenario.orders.values()}) or ["ATVPDKIKX0DER"]
        self._send(200, {"payload": [{
            "marketplace": {"id": mid, "name": "Amazon", "countryCode": "US",
                            "defaultCurrencyCode": "USD", "defaultLanguageCode": "en_US",
                            "domainName": "www.amazon.com"},
            "participation": {"isParticipating": True, "hasSuspendedListings": False}}
            for mid in ids]})

    def h_create_rdt(self):
        emu = self.emulator
        if self.principal is None or self.headers.get("x-amz-access-token") in emu.rdts:
            return self._error(403, "Unauthorized", "An RDT cannot create an RDT.")
        data = json.loads(self.body or b"{}")
        resources = data.get("restrictedResources") or []
        if not resources:
            return self._error(400, "InvalidInput", "restrictedResources is required")
        info = emu.refresh_tokens[self.principal]
        if "buyer_pii" not in info["roles"]:
            return self._error(403, "Unauthorized", "Access to requested resource is denied.",
                               "The application is not authorised for restricted data.")
        token = "Atz.sprdt|" + secrets.token_urlsafe(24)
        emu.rdts[token] = (self.principal, resources)
        self._send(200, {"restrictedDataToken": token, "expiresIn": 3600})

    def h_create_report(self):
        emu = self.emulator
        data = json.loads(self.body or b"{}")
        if not data.get("reportType") or not data.get("marketplaceIds"):
            return self._error(400, "InvalidInput", "reportType and marketplaceIds are required")
        if data["reportType"] in settlements.NOT_REQUESTABLE:
            # Amazon schedules settlement reports itself: they are found with getReports.
            return self._error(400, "InvalidInput", "Request for report type %d is not allowed "
                               "at this time" % settlements.NOT_REQUESTABLE[data["reportType"]])
        if data["reportType"] == returns.REPORT_RETURNS:
            refusal = returns.window_error(_dt(data.get("dataStartTime")), _dt(data.get("dataEndTime"))
                                           or datetime.now(timezone.utc))
            if refusal:
                return self._error(400, "InvalidInput", refusal)
        report_id = emu._new_id()
        outcome = emu.faults["next_report"].popleft() if emu.faults["next_report"] else "DONE"
        emu.reports[report_id] = {
            "reportId": report_id, "reportType": data["reportType"],
            "marketplaceIds": data["marketplaceIds"],
            "dataStartTime": data.get("dataStartTime"), "dataEndTime": data.get("dataEndTime"),
            "_options": data.get("reportOptions") or {},
            "createdTime": iso(datetime.now(timezone.utc)), "processingStatus": "IN_QUEUE",
            "_polls": 0, "_outcome": outcome}
        self._send(202, {"reportId": report_id})

    def h_get_reports(self):
        return settlements.get_reports(self)

    def h_get_report(self, id):
        emu = self.emulator
        report = emu.reports.get(id)
        if not report:
            return self._error(404, "NotFound", "Report %s not found" % id)
        emu._advance(report)
        self._send(200, {k: v for k, v in report.items() if not k.startswith("_") and v is not None})

    def h_get_report_document(self, id):
        emu = self.emulator
        doc = emu.documents.get(id)
        if not doc:
            return self._error(404, "NotFound", "Document %s not found" % id)
        path = "/reports/2021-06-30/documents/%s" % id
        if doc["reportType"] in RESTRICTED and not self._pii_allowed(path):
            return self._error(403, "Unauthorized", "Access to requested resource is denied.",
                               "A restricted data token is required for this report type.")
        # Like Amazon's presigned URLs: a fresh signature each time it is asked for.
        signature = secrets.token_hex(16)
        if emu.faults["damaged_urls"] > 0:
            emu.faults["damaged_urls"] -= 1
            emu.damaged_signatures.add(signature)
        body = {"reportDocumentId": id,
                "url": "%s/download/%s?X-Amz-Signature=%s" % (emu.url, id, signature)}
        if doc["gzip"]:
            body["compressionAlgorithm"] = "GZIP"
        self._send(200, body)

    def h_download(self, id):
        emu = self.emulator
        doc = emu.documents.get(id)
        if not doc:
            return self._send(403, raw=b"<Error><Code>AccessDenied</Code></Error>",
                              content_type="application/xml")
        body = doc["body"]
        if (self.query.get("X-Amz-Signature") or [""])[0] in emu.damaged_signatures:
            emu.calls["truncatedDownload"] += 1
            body = body[: max(10, len(body) // 2)]
        elif emu.faults["truncate_downloads"] > 0:
            # The transfer is cut short; the stored document stays whole.
            emu.faults["truncate_downloads"] -= 1
            emu.calls["truncatedDownload"] += 1
            body = body[: max(10, len(body) // 2)]
        emu.calls["download"] += 1
        self._send(200, raw=body, content_type="text/plain; charset=%s" % doc["charset"])

    def _order_view(self, entry, path):
        order = dict(entry["order"])
        if not self._pii_allowed(path, "buyerInfo"):
            order["BuyerInfo"] = {}
        if not self._pii_allowed(path, "shippingAddress"):
            addr = order["ShippingAddress"]
            order["ShippingAddress"] = {k: addr[k] for k in ("City", "StateOrRegion", "PostalCode",
                                                             "CountryCode") if k in addr}
        return order

    def h_get_orders(self):
        emu = self.emulator
        q = {k: v[0] for k, v in self.query.items()}
        if q.get("NextToken"):
            try:
                state = json.loads(base64.b64decode(q["NextToken"]))
            except ValueError:
                return self._error(400, "InvalidInput", "Invalid NextToken")
            q, offset = state["q"], state["offset"]
        else:
            offset = 0
            if not q.get("MarketplaceIds"):
                return self._error(400, "InvalidInput", "MarketplaceIds is required")
            if not q.get("CreatedAfter") and not q.get("LastUpdatedAfter") and not q.get("AmazonOrderIds"):
                return self._error(400, "InvalidInput", "CreatedAfter or LastUpdatedAfter is required")
        csv = lambda key: [v for v in q.get(key, "").split(",") if v]  # noqa: E731
        entries = emu.scenario.select(
            marketplace_ids=csv("MarketplaceIds"), start=_dt(q.get("CreatedAfter")),
            end=_dt(q.get("CreatedBefore")), statuses=csv("OrderStatuses") or None,
            channels=csv("FulfillmentChannels") or None, updated_after=_dt(q.get("LastUpdatedAfter")),
            order_ids=csv("AmazonOrderIds") or None)
        size = min(int(q.get("MaxResultsPerPage") or 100), 100)
        page = entries[offset:offset + size]
        payload = {"Orders": [self._order_view(e, "/orders/v0/orders") for e in page]}
        if q.get("CreatedBefore") or q.get("CreatedAfter"):
            payload["CreatedBefore"] = q.get("CreatedBefore") or iso(datetime.now(timezone.utc))
        else:
            payload["LastUpdatedBefore"] = iso(datetime.now(timezone.utc))
        if offset + size < len(entries):
            payload["NextToken"] = base64.b64encode(json.dumps(
                {"q": q, "offset": offset + size}).encode()).decode()
        self._send(200, {"payload": payload})

    def h_get_order(self, id):
        entry = self.emulator.scenario.orders.get(id)
        if not entry:
            return self._error(404, "NotFound", "Order %s not found" % id)
        self._send(200, {"payload": self._order_view(entry, "/orders/v0/orders/{orderId}")})

    def h_get_order_items(self, id):
        entry = self.emulator.scenario.orders.get(id)
        if not entry:
            return self._error(404, "NotFound", "Order %s not found" % id)
        items = []
        for item in entry["items"]:
            item = dict(item)
            if "BuyerInfo" in item and not self._pii_allowed(
                    "/orders/v0/orders/%s/orderItems" % id, "buyerInfo"):
                gift = dict(item["BuyerInfo"])
                gift.pop("GiftMessageText", None)
                item["BuyerInfo"] = gift
            items.append(item)
        self._send(200, {"payload": {"AmazonOrderId": id, "OrderItems": items}})

    def h_confirm_shipment(self, id):
        entry = self.emulator.scenario.orders.get(id)
        if not entry:
            return self._error(404, "NotFound", "Order %s not found" % id)
        try:
            body = json.loads(self.body or b"null")
        except ValueError:
            return self._error(400, "InvalidInput", "The request body is not valid JSON.")
        try:
            shipments.confirm_shipment(entry, body)
        except shipments.ShipmentError as exc:
            return self._error(exc.status, exc.code, exc.message)
        self._send(204)

    def h_stats(self):
        emu = self.emulator
        self._send(200, {"calls": dict(emu.calls), "throttled": dict(emu.throttled)})

    def h_close_settlement(self):
        """The emulator's own control (not Amazon's API), for the demo: Amazon closes a
        settlement of these orders now, ``{"orders": [order ids], "fees": [[description,
        amount]]}`` (``settlements.build_settlement``); getReports then lists it."""
        try:
            body = json.loads(self.body or b"{}")
            orders = [oid for oid in body.get("orders", []) if oid in self.emulator.scenario.orders]
            fees = [tuple(fee) for fee in body.get("fees", [])]
        except (ValueError, TypeError, AttributeError):
            return self._error(400, "InvalidInput", "The request body is not valid JSON.")
        report_id, builder = settlements.add_settlement(self.emulator, orders, fees=fees)
        self._send(200, {"reportId": report_id, "settlementId": builder.settlement_id,
                         "orders": orders, "total": str(builder.total)})


def _dt(value):
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
