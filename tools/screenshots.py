"""README pictures from the running demo (``bash tools/run.sh``), retaken at will.

    python tools/screenshots.py [--url http://127.0.0.1:8069] [--db amazon_fbm_demo] [--out docs]

It plays a seller's day on the demo through Odoo's JSON-RPC, as the admin user:
an unshipped import (wizard, Check Status until Done, Process File), a shipped
import (queue processed by its scheduled action), one delivery validated with a
carrier and a tracking number and sent to Amazon; then it opens each screen in
headless Chromium (Debian's ``chromium``, driven over the DevTools protocol with
the session cookie) and saves PNGs in docs/: dashboard, wizard, a processed
report, a done queue, the FBM orders, an order with its delivery and invoice,
a delivery with its Amazon state, the seller, the sales analysis graph.
"""
import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import websocket

SHOTS_WIDTH, SHOTS_HEIGHT = 1400, 860


class Odoo:
    """JSON-RPC to the demo, with the session a browser reuses."""

    def __init__(self, url, db, login, password):
        self.url = url.rstrip("/")
        self.session = None
        result = self._post("/web/session/authenticate", {"db": db, "login": login, "password": password})
        if not result.get("uid"):
            raise SystemExit("could not log in to %s as %s" % (db, login))

    def _post(self, path, params):
        req = urllib.request.Request(self.url + path, data=json.dumps({
            "jsonrpc": "2.0", "method": "call", "params": params}).encode(),
            headers={"Content-Type": "application/json",
                     **({"Cookie": "session_id=%s" % self.session} if self.session else {})})
        with urllib.request.urlopen(req, timeout=300) as res:
            cookie = res.headers.get("Set-Cookie", "")
            if "session_id=" in cookie:
                self.session = cookie.split("session_id=")[1].split(";")[0]
            body = json.load(res)
        if body.get("error"):
            data = body["error"].get("data", {})
            raise RuntimeError(data.get("message") or body["error"])
        return body["result"]

    def call(self, model, method, *args, **kwargs):
        return self._post("/web/dataset/call_kw", {"model": model, "method": method, "args": list(args),
                                                   "kwargs": kwargs})

    def search(self, model, domain, **kw):
        return self.call(model, "search", domain, **kw)

    def read_fields(self, model, ids, fields):
        return self.call(model, "read", ids, fields)

    def ref(self, xmlid):
        module, name = xmlid.split(".")
        [data] = self.call("ir.model.data", "search_read", [("module", "=", module), ("name", "=", name)],
                           ["res_id"])
        return data["res_id"]


class Browser:
    """One headless Chromium for all the pictures, logged in by the session cookie."""

    def __init__(self, url, session, menu_id=None):
        self.url = url
        self.menu_id = menu_id
        self.only = None    # --only: the pictures to take (names without .png), else all
        self.profile = tempfile.mkdtemp(prefix="amazon_fbm_shots.")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        chrome = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
        if not chrome:
            raise SystemExit("no chromium: apt-get install chromium")
        self.proc = subprocess.Popen(
            [chrome, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--remote-debugging-port=%d" % port, "--remote-allow-origins=*", "--user-data-dir=" + self.profile,
             "--window-size=%d,%d" % (SHOTS_WIDTH, SHOTS_HEIGHT), "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        target = None
        for _ in range(100):
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/json" % port, timeout=2) as res:
                    target = next(t for t in json.load(res) if t["type"] == "page")
                break
            except (OSError, StopIteration):
                time.sleep(0.2)
        if not target:
            self.close()
            raise SystemExit("chromium did not start")
        self.ws = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=60)
        self.seq = 0
        host = url.split("//")[1].split(":")[0].split("/")[0]
        self.cdp("Network.enable")
        self.cdp("Network.setCookie", name="session_id", value=session, domain=host, path="/")
        self.cdp("Emulation.setDeviceMetricsOverride", width=SHOTS_WIDTH, height=SHOTS_HEIGHT,
                 deviceScaleFactor=1, mobile=False)

    def cdp(self, method, **params):
        self.seq += 1
        self.ws.send(json.dumps({"id": self.seq, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.seq:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})

    def evaluate(self, expression):
        result = self.cdp("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, selector, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.evaluate("!!document.querySelector(%s)" % json.dumps(selector)):
                return True
            time.sleep(0.3)
        raise RuntimeError("%s never showed %s" % (self.evaluate("location.href"), selector))

    def shot(self, path, out, selector, click=None):
        """Open ``path``, wait for ``selector`` (and click ``click``), save a PNG."""
        if self.only and os.path.splitext(os.path.basename(out))[0] not in self.only:
            return
        self.cdp("Page.navigate", url="about:blank")
        if self.menu_id:
            path = path.replace("/web#", "/web#menu_id=%s&" % self.menu_id)
        self.cdp("Page.navigate", url=self.url + path)
        self.wait_for(selector)
        if click:
            self.wait_for(click)
            self.evaluate("document.querySelector(%s).click()" % json.dumps(click))
        time.sleep(1.5)   # fonts, charts and the chatter settle
        data = self.cdp("Page.captureScreenshot", format="png")["data"]
        with open(out, "wb") as fh:
            fh.write(base64.b64decode(data))
        print("saved", out)

    def close(self):
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)


def _processed_report(odoo, seller_id, marketplace_ids):
    """A processed Sale Order Report that created orders: the demo's, else one made now."""
    for report in odoo.call("amazon.report.request", "search_read", [("seller_id", "=", seller_id),
                                                                    ("state", "=", "processed")],
                            ["count_created"], order="id desc"):
        if report["count_created"]:
            return report["id"]
    wizard = odoo.call("amazon.operation.wizard", "create", {
        "seller_id": seller_id, "operation": "fbm_import_unshipped",
        "marketplace_ids": [(6, 0, marketplace_ids)]})
    report_id = odoo.call("amazon.operation.wizard", "action_execute", [wizard])["res_id"]
    for _ in range(60):
        state = odoo.read_fields("amazon.report.request", [report_id], ["state", "message"])[0]
        if state["state"] not in ("submitted", "in_progress"):
            break
        time.sleep(2)
        odoo.call("amazon.report.request", "action_check_status", [report_id])
    if state["state"] != "done":
        raise SystemExit("the report ended %s: %s" % (state["state"], state["message"]))
    odoo.call("amazon.report.request", "action_process_file", [report_id])   # the scheduler imports it
    for _ in range(60):
        state = odoo.read_fields("amazon.report.request", [report_id], ["state", "message"])[0]
        if state["state"] == "processed":
            break
        time.sleep(2)
    else:
        raise SystemExit("the scheduler did not process the report: %s" % state["message"])
    return report_id


def _done_queue(odoo, seller_id, marketplace_ids):
    """A done queue of shipped orders: the demo's, else one imported now by its scheduled action."""
    done = odoo.search("amazon.order.queue", [("seller_id", "=", seller_id), ("state", "=", "done")],
                       order="id desc", limit=1)
    if done:
        return done[0]
    wizard = odoo.call("amazon.operation.wizard", "create", {
        "seller_id": seller_id, "operation": "fbm_import_shipped",
        "marketplace_ids": [(6, 0, marketplace_ids)]})
    action = odoo.call("amazon.operation.wizard", "action_execute", [wizard])
    # the listing cron lists Amazon's orders in the background and queues them
    domain = action["params"]["next"]["domain"]
    queue_ids = []
    for _ in range(60):
        queue_ids = odoo.search("amazon.order.queue", domain)
        if queue_ids:
            break
        time.sleep(2)
    if not queue_ids:
        raise SystemExit("Amazon (the emulator) has no shipped order to queue")
    cron = odoo.ref("amazon_fbm_connector.ir_cron_amazon_order_queues")
    for _ in range(30):
        if all(q["state"] in ("done", "partial") for q in odoo.read_fields("amazon.order.queue", queue_ids, ["state"])):
            break
        try:
            odoo.call("ir.cron", "method_direct_trigger", [cron])
        except RuntimeError as exc:   # the server's cron thread holds it: it works anyway
            print("queue cron:", exc)
        time.sleep(2)
    return queue_ids[0]


def _sent_delivery(odoo, report_id):
    """A delivery of the report's orders, validated with a carrier and a tracking number
    like a warehouse user does, then sent to Amazon."""
    sent = odoo.search("stock.picking", [("amazon_confirm_state", "=", "sent")], order="id desc", limit=1)
    if sent:
        return sent[0]
    orders = [line["sale_order_id"][0] for line in odoo.call(
        "amazon.report.request.line", "search_read", [("request_id", "=", report_id), ("sale_order_id", "!=", False)],
        ["sale_order_id"])]
    pickings = odoo.search("stock.picking", [("sale_id", "in", orders), ("picking_type_code", "=", "outgoing"),
                                             ("state", "not in", ("done", "cancel"))], limit=1)
    if not pickings:
        return None
    picking_id = pickings[0]
    carrier = odoo.search("delivery.carrier", [("name", "=", "UPS Ground")], limit=1)
    if not carrier:
        fee = odoo.call("product.product", "create", {"name": "Postage", "detailed_type": "service"})
        carrier = [odoo.call("delivery.carrier", "create", {"name": "UPS Ground", "product_id": fee})]
    odoo.call("stock.picking", "write", [picking_id], {"carrier_id": carrier[0],
                                                        "carrier_tracking_ref": "1Z999AA10123456784"})
    for move in odoo.call("stock.move", "search_read", [("picking_id", "=", picking_id)], ["product_uom_qty"]):
        odoo.call("stock.move", "write", [move["id"]], {"quantity": move["product_uom_qty"], "picked": True})
    result = odoo.call("stock.picking", "button_validate", [picking_id],
                       context={"skip_backorder": True, "skip_sms": True})
    if isinstance(result, dict) and result.get("res_model"):
        raise SystemExit("validating the delivery asked for %s" % result["res_model"])
    odoo.call("stock.picking", "action_amazon_send_confirmation", [picking_id])
    return picking_id


def _stock_exported(odoo, seller_id):
    """The demo's FBM stock sent to Amazon: the export cron woken, then waited for."""
    odoo.call("amazon.seller", "action_export_stock", [seller_id])
    _wait_cron(odoo, "amazon_fbm_connector.ir_cron_amazon_stock_export", lambda: (
        odoo.search("amazon.stock.offer", [("state", "=", "accepted")], limit=1)
        and not odoo.search("amazon.stock.offer", [("to_send", "=", True)], limit=1)
        and not odoo.search("amazon.stock.mark", [], limit=1)),
        "Amazon (the emulator) accepting the FBM quantities", tries=20)


def _wait_cron(odoo, xmlid, done, what, tries=40):
    """Run a cron now (the server's cron thread may hold it: it works anyway) until ``done()``."""
    cron = odoo.ref(xmlid)
    for _ in range(tries):
        found = done()
        if found:
            return found
        try:
            odoo.call("ir.cron", "method_direct_trigger", [cron])
        except RuntimeError:
            pass
        time.sleep(3)
    raise SystemExit("%s did not happen" % what)


def cancelled_order(odoo, seller_id):
    """An unshipped order cancelled on Amazon from Odoo: the Cancel on Amazon wizard (reason
    NoInventory), the cancellations cron's feed to Amazon (the emulator) and its report read back."""
    def accepted():
        return odoo.search("sale.order", [("amazon_seller_id", "=", seller_id),
                                          ("amazon_cancel_state", "=", "accepted")], order="id desc", limit=1)
    if not accepted():
        sent = odoo.search("sale.order", [("amazon_seller_id", "=", seller_id),
                                          ("amazon_cancel_state", "in", ("to_send", "sent"))], limit=1)
        if not sent:
            [order_id] = odoo.search("sale.order", [
                ("amazon_seller_id", "=", seller_id), ("state", "=", "sale"), ("amazon_status", "=", "Unshipped"),
                ("delivery_status", "!=", "full"), ("amazon_cancel_state", "=", False)], order="id desc", limit=1)
            wizard = odoo.call("amazon.order.cancel.wizard", "create",
                               {"sale_order_id": order_id, "reason": "NoInventory"})
            odoo.call("amazon.order.cancel.wizard", "action_confirm", [wizard])
    return _wait_cron(odoo, "amazon_fbm_connector.ir_cron_amazon_send_cancellations", accepted,
                      "Amazon (the emulator) accepting a cancellation")[0]


def amazon_return(odoo, seller_id):
    """An Amazon return with its return picking and credit note: the returns report (the
    emulator's demo has one refunded RMA of a shipped order), imported by its cron."""
    def made():
        return odoo.search("amazon.return", [("seller_id", "=", seller_id), ("picking_id", "!=", False),
                                             ("credit_note_id", "!=", False)], limit=1)
    if not made():
        odoo.call("amazon.seller", "action_import_returns", [seller_id])
    return _wait_cron(odoo, "amazon_fbm_connector.ir_cron_amazon_import_returns", made,
                      "an Amazon return with its picking and credit note")[0]


def shot_cancellation(odoo, browser, out, seller_id):
    """docs/cancellation.png: an order whose cancellation Amazon accepted (its Amazon page)."""
    if browser.only and "cancellation" not in browser.only:
        return
    order_id = cancelled_order(odoo, seller_id)
    # a taller page: the status bar (Cancelled) and the Amazon page's cancellation rows in one picture
    browser.cdp("Emulation.setDeviceMetricsOverride", width=SHOTS_WIDTH, height=1060,
                deviceScaleFactor=1, mobile=False)
    try:
        browser.shot("/web#id=%s&model=sale.order&view_type=form" % order_id, out("cancellation.png"),
                     ".o_form_view .o_notebook", click=".o_notebook .nav-link[name=amazon]")
    finally:
        browser.cdp("Emulation.setDeviceMetricsOverride", width=SHOTS_WIDTH, height=SHOTS_HEIGHT,
                    deviceScaleFactor=1, mobile=False)


def shot_return(odoo, browser, out, seller_id):
    """docs/return.png: an Amazon return (Amazon > FBM > Returns) with its picking and credit note."""
    if browser.only and "return" not in browser.only:
        return
    return_id = amazon_return(odoo, seller_id)
    browser.shot("/web#id=%s&model=amazon.return&view_type=form" % return_id, out("return.png"),
                 ".o_form_view .o_field_widget[name=amazon_rma_ref]")


def settlement_shot(odoo, browser, out, seller_id):
    """docs/settlement.png: a reconciled settlement. Amazon (the emulator, by its own control
    route) settles the demo's shipped and invoiced orders with a Subscription Fee; the
    settlement cron imports and books it; the form shows its amounts and totals.
    docs/settlement_statement.png: its bank statement, line by line."""
    if browser.only and not browser.only & {"settlement", "settlement_statement"}:
        return
    done = odoo.search("amazon.settlement", [("seller_id", "=", seller_id), ("state", "=", "reconciled")],
                       order="id desc", limit=1)
    if not done:
        orders = odoo.call("sale.order", "search_read", [
            ("amazon_seller_id", "=", seller_id), ("amazon_status", "=", "Shipped"),
            ("invoice_ids.state", "=", "posted")], ["amazon_order_ref"], limit=6, order="id")
        if not orders:
            raise SystemExit("no shipped and invoiced order to settle: import shipped orders first")
        endpoint = odoo.read_fields("amazon.seller", [seller_id], ["api_endpoint"])[0]["api_endpoint"]
        req = urllib.request.Request(endpoint.rstrip("/") + "/_emulator/settlements", data=json.dumps({
            "orders": [o["amazon_order_ref"] for o in orders],
            "fees": [["Subscription Fee", "-39.99"]]}).encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as res:
            ref = json.load(res)["settlementId"]
        odoo.call("amazon.seller", "action_import_settlements", [seller_id])
        done = _wait_cron(odoo, "amazon_fbm_connector.ir_cron_amazon_import_settlements", lambda: odoo.search(
            "amazon.settlement", [("settlement_ref", "=", ref), ("stage", "in", ("done", "failed"))]),
            "the import of settlement %s" % ref)
        state = odoo.read_fields("amazon.settlement", done, ["state", "message"])[0]
        if state["state"] != "reconciled":
            print("settlement %s: %s (%s)" % (ref, state["state"], state["message"]))
    browser.shot("/web#id=%s&model=amazon.settlement&view_type=form" % done[0], out("settlement.png"),
                 ".o_form_view .o_field_widget[name=line_ids] .o_data_row")
    # docs/settlement_statement.png: its bank statement (the settlement's Bank Statement button)
    browser.shot("/web#id=%s&model=amazon.settlement&view_type=form" % done[0],
                 out("settlement_statement.png"), ".o_form_view button[name=action_open_statement]",
                 click="button[name=action_open_statement]")


def play_the_day(odoo):
    """Demo data for the pictures: a report processed, a queue done, a delivery sent to Amazon."""
    [seller_id] = odoo.search("amazon.seller", [], limit=1)
    seller = odoo.read_fields("amazon.seller", [seller_id], ["marketplace_ids"])[0]
    odoo.call("amazon.seller", "action_test_connection", [seller_id])
    report_id = _processed_report(odoo, seller_id, seller["marketplace_ids"])
    queue_id = _done_queue(odoo, seller_id, seller["marketplace_ids"])
    picking_id = _sent_delivery(odoo, report_id)
    _stock_exported(odoo, seller_id)
    # a delivered and invoiced order of the shipped flow for the order picture
    shipped = odoo.call("amazon.order.queue.line", "search_read",
                        [("queue_id", "=", queue_id), ("sale_order_id", "!=", False)], ["sale_order_id"], limit=1)
    order_id = shipped[0]["sale_order_id"][0] if shipped else odoo.search(
        "sale.order", [("amazon_seller_id", "=", seller_id)], limit=1)[0]
    return {"report": report_id, "queue": queue_id, "order": order_id, "picking": picking_id,
            "seller": seller_id}


def shot_authorize(odoo, browser, out):
    """docs/authorize.png: a seller's form with Authorize with Amazon and its App ID (the
    website authorization workflow). On its own: a failure here leaves the other pictures."""
    try:
        [seller_id] = odoo.search("amazon.seller", [], limit=1)
        browser.shot("/web#id=%s&model=amazon.seller&view_type=form" % seller_id, out("authorize.png"),
                     ".o_form_view button[name=action_authorize_with_amazon]")
    except (RuntimeError, ValueError) as exc:
        print("authorize.png not taken:", exc)


def shot_ship_by(odoo, browser, out):
    """Ship-by dates: the FBM orders to ship, opened from the dashboard, with Time to Ship
    ("1 d 3 h left", "late by 5 h"). One unshipped order of the demo is made late when
    none is, so that the picture shows both."""
    if browser.only and "ship_by" not in browser.only:
        return
    unshipped = odoo.search("sale.order", [("amazon_seller_id", "!=", False), ("amazon_status", "=", "Unshipped"),
                                           ("state", "!=", "cancel")], order="id")
    if unshipped and not odoo.search("sale.order", [("id", "in", unshipped), ("amazon_late", "=", True)]):
        late = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() - 5 * 3600))
        odoo.call("sale.order", "write", unshipped[:1], {"amazon_ship_by_date": late})
    browser.shot("/web#action=amazon_fbm_connector.action_amazon_dashboard", out("ship_by.png"),
                 ".o_amazon_dashboard_card .o_amazon_unshipped", click=".o_amazon_dashboard_card .o_amazon_unshipped")


def shot_before_validating(odoo, browser, out):
    """The check before validating: an Amazon delivery without carrier nor tracking
    number, Validate pressed, "Before Amazon is told" asks for them."""
    pickings = odoo.search("stock.picking", [("sale_id.amazon_seller_id", "!=", False), ("state", "=", "assigned"),
                                             ("picking_type_code", "=", "outgoing"), ("carrier_id", "=", False),
                                             ("carrier_tracking_ref", "=", False)], order="id", limit=1)
    if not pickings:
        print("before_validating.png not taken: no ready Amazon delivery without carrier")
        return
    browser.shot("/web#id=%s&model=stock.picking&view_type=form" % pickings[0], out("before_validating.png"),
                 ".o_form_view .o_statusbar_buttons button[name=button_validate]",
                 click=".o_form_view .o_statusbar_buttons button[name=button_validate]")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("AMAZON_FBM_URL", "http://127.0.0.1:8069"))
    parser.add_argument("--db", default=os.environ.get("AMAZON_FBM_DEMO_DB", "amazon_fbm_demo"))
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs"))
    parser.add_argument("--only", default="", help="take only these pictures: comma-separated names "
                                                    "without .png (e.g. cancellation,return,ship_by)")
    args = parser.parse_args()
    odoo = Odoo(args.url, args.db, args.login, args.password)
    ids = play_the_day(odoo)
    browser = Browser(odoo.url, odoo.session, odoo.ref("amazon_fbm_connector.menu_amazon_root"))
    browser.only = {name.strip() for name in args.only.split(",") if name.strip()}
    out = lambda name: os.path.join(args.out, name)  # noqa: E731
    try:
        shot_ship_by(odoo, browser, out)
        shot_before_validating(odoo, browser, out)
        browser.shot("/web#action=amazon_fbm_connector.action_amazon_dashboard", out("dashboard.png"),
                     ".o_amazon_dashboard_card")
        browser.shot("/web#action=amazon_fbm_connector.action_amazon_operation_wizard", out("operations.png"),
                     ".modal .o_field_widget[name=operation]")
        browser.shot("/web#id=%s&model=amazon.report.request&view_type=form" % ids["report"],
                     out("sale_order_report.png"), ".o_form_view .o_amazon_state_hint")
        browser.shot("/web#id=%s&model=amazon.order.queue&view_type=form" % ids["queue"], out("queue.png"),
                     ".o_form_view .o_amazon_queue_summary")
        browser.shot("/web#action=amazon_fbm_connector.action_amazon_fbm_orders&view_type=list",
                     out("fbm_orders.png"), ".o_list_view .o_data_row")
        browser.shot("/web#id=%s&model=sale.order&view_type=form" % ids["order"], out("order.png"),
                     ".o_form_view .o-form-buttonbox button[name=action_view_delivery]")
        if ids["picking"]:
            browser.shot("/web#id=%s&model=stock.picking&view_type=form" % ids["picking"], out("delivery.png"),
                         ".o_form_view .o_field_widget[name=amazon_confirm_state]")
        browser.shot("/web#id=%s&model=amazon.seller&view_type=form" % ids["seller"], out("seller.png"),
                     ".o_form_view .o-form-buttonbox")
        browser.shot("/web#action=amazon_fbm_connector.action_amazon_sale_report&view_type=graph",
                     out("analysis.png"), ".o_graph_renderer canvas")
        browser.shot("/web#action=amazon_fbm_connector.action_amazon_stock_offer&view_type=list",
                     out("stock_on_amazon.png"), ".o_list_view .o_data_row")
        shot_authorize(odoo, browser, out)
        shot_cancellation(odoo, browser, out, ids["seller"])
        shot_return(odoo, browser, out, ids["seller"])
        settlement_shot(odoo, browser, out, ids["seller"])
    finally:
        browser.close()


if __name__ == "__main__":
    main()
