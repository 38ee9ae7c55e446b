"""Shared set-up of the benchmarks (run inside ``odoo-bin shell`` by tools/bench.sh)."""
import copy
import gc
import os
import resource
import subprocess
import sys
import time

from odoo.addons.amazon_fbm_connector.services.rate_limit import RateLimiter
from odoo.tools import config

US = "ATVPDKIKX0DER"
SKUS = ["SKU-%04d" % n for n in range(1, 41)]


def setup(env, emulator=None, name="Bench seller"):
    """Company, taxes, products, workflow and a seller (committed once)."""
    env.company.country_id = env.ref("base.us")
    tax = env["account.tax"].search([("name", "=", "Bench Sales Tax 8.25%")], limit=1) or \
        env["account.tax"].create({"name": "Bench Sales Tax 8.25%", "amount": 8.25,
                                   "amount_type": "percent", "type_tax_use": "sale"})
    Product = env["product.product"]
    existing = set(Product.search([("default_code", "in", SKUS)]).mapped("default_code"))
    Product.create([{"name": "Bench %s" % sku, "default_code": sku, "detailed_type": "product",
                     "taxes_id": [(6, 0, tax.ids)]} for sku in SKUS if sku not in existing])
    workflow = env["amazon.sale.workflow"].search([("name", "=", "Bench confirm+invoice+post")], limit=1) or \
        env["amazon.sale.workflow"].create({"name": "Bench confirm+invoice+post", "confirm_order": True,
                                            "create_invoice": True, "validate_invoice": True})
    seller = env["amazon.seller"].search([("name", "=", name)], limit=1)
    vals = {"name": name, "workflow_id": workflow.id, "order_prefix": "B-", "queue_size": 50}
    if emulator:
        client_id, secret = next(iter(emulator.apps.items()))
        vals.update({"lwa_client_id": client_id, "lwa_client_secret": secret,
                     "refresh_token": next(iter(emulator.refresh_tokens)),
                     "api_endpoint": emulator.url, "lwa_endpoint": emulator.url})
    if seller:
        seller.write(vals)
    else:
        seller = env["amazon.seller"].create(vals)
    if not seller.marketplace_ids:
        env["amazon.marketplace"].create({
            "seller_id": seller.id, "reference_id": env.ref("amazon_fbm_connector.marketplace_us").id,
            "warehouse_id": env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1).id})
    env.cr.commit()
    RateLimiter.reset()
    return seller


def start_cron_server(dbname, name, threads):
    """An ``odoo-bin`` of this database with ``threads`` cron threads and no HTTP, as a
    seller runs it; its log in the data directory (bench-NAME-server.log)."""
    log = open(os.path.join(config["data_dir"], "bench-%s-server.log" % name), "w")
    server = subprocess.Popen([sys.executable, os.path.join(os.environ["ODOO_PATH"], "odoo-bin"),
                               "-c", config.rcfile, "-d", dbname, "--no-http",
                               "--max-cron-threads", threads, "--log-level=warn"],
                              stdout=log, stderr=subprocess.STDOUT)
    server.log = log
    return server


def stop_server(server):
    """Stop a server of ``start_cron_server`` (killed if it does not stop within 30 s)."""
    server.terminate()
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
    server.log.close()


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


# ------------------------------------------------------------------ memory
def rss_kb(field="VmRSS:"):
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def reset_peak_rss():
    """Linux: set the peak RSS (VmHWM) back to the current RSS; False if not allowed."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


class Measure:
    """Seconds and peak RSS growth of the block (exact where Linux lets the peak
    be reset, else ``<=`` an earlier peak: ru_maxrss only rises)."""
    def __enter__(self):
        gc.collect()
        self.exact = reset_peak_rss()
        self.rss_before = rss_kb()
        self.peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.cpu_before = time.process_time()
        self.timer = Timer().__enter__()
        return self

    def __exit__(self, *exc):
        self.timer.__exit__(*exc)
        self.seconds = self.timer.seconds
        self.cpu_seconds = time.process_time() - self.cpu_before   # this process's CPU
        rss_after = rss_kb()
        peak_after = rss_kb("VmHWM:") if self.exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak_before = self.rss_before if self.exact else self.peak_before
        self.growth_mb = (max(peak_after, self.rss_before) - self.rss_before) / 1024
        self.kept_mb = (rss_after - self.rss_before) / 1024
        self.peak_raised = peak_after > peak_before


def quota_seconds(calls, limits):
    """Seconds Amazon's default usage plans need for these calls (token buckets)."""
    worst = 0.0
    for operation, count in calls.items():
        rate, burst = limits.get(operation, (None, None))
        if rate:
            worst = max(worst, max(0, count - burst) / rate)
    return worst


# ====================================================================== orders
# Ours, the naive loop and Odoo's floor on the same orders (tools/bench_builder.py,
# tools/bench_report.py, tools/bench_profile.py). ``env`` is odoo-bin shell's.
BATCH = 50      # the flows' batch: one build + workflow + commit per 50 orders


def payloads_for(n, seed, tag):
    """The same Amazon orders (Orders API payloads + items) for every run of a
    size; buyers' e-mails are tagged per run so that no run finds the partners
    another one created. Generated outside any timing: the emulator is not ours."""
    # imported here: tools/bench_flows.py imports this module before its own set-up
    from odoo.addons.amazon_fbm_connector.tools.spapi_emulator import Scenario
    entries = [copy.deepcopy(e) for e in Scenario.generate(n, seed=seed).orders.values()]
    for entry in entries:
        buyer = entry["order"]["BuyerInfo"]
        buyer["BuyerEmail"] = "%s-%s" % (tag, buyer["BuyerEmail"])
    return entries


def ours(env, seller, payloads, batch=BATCH):
    """What the unshipped flow does once Amazon's data is read: our normalising,
    then the import pipeline (known orders, prices, marketplace, classify,
    build, auto workflow) per batch of 50, one commit per batch."""
    from odoo.addons.amazon_fbm_connector.services import pipeline
    from odoo.addons.amazon_fbm_connector.services.const import FLOW_UNSHIPPED
    from odoo.addons.amazon_fbm_connector.services.normalize import from_orders_api
    orders = [from_orders_api(e["order"], e["items"]) for e in payloads]
    results = []
    for start in range(0, len(orders), batch):
        entries = [pipeline.Entry(o.order_id, order=o) for o in orders[start:start + batch]]
        results += pipeline.run(seller, entries, flow=FLOW_UNSHIPPED, marketplaces=seller.marketplace_ids)
        env.cr.commit()
    return results


def naive(env, seller, payloads):
    """One order at a time through the same pipeline: its own searches, workflow and commit."""
    return ours(env, seller, payloads, batch=1)


def check(env, seller, payloads):
    """Every order imported once, invoiced and posted, at Amazon's total."""
    refs = [e["order"]["AmazonOrderId"] for e in payloads]
    sale_orders = env["sale.order"].search([("amazon_seller_id", "=", seller.id),
                                            ("amazon_order_ref", "in", refs)])
    assert len(sale_orders) == len(refs), (len(sale_orders), len(refs))
    assert all(so.state == "sale" and so.invoice_ids.state == "posted" for so in sale_orders)
    assert all(abs(so.amount_total - so.amazon_total) < 0.005 for so in sale_orders)
    return sale_orders


# ----------------------------------------------------------------- the floor
PARTNER_FIELDS = ("name", "email", "phone", "street", "street2", "city", "zip", "country_id",
                  "state_id", "is_company", "vat", "lang", "comment", "type")
ORDER_FIELDS = ("name", "pricelist_id", "company_id", "warehouse_id", "date_order", "client_order_ref",
                "fiscal_position_id", "team_id", "user_id", "note")
LINE_FIELDS = ("product_id", "name", "analytic_distribution", "product_uom", "sequence",
               "product_uom_qty", "price_unit")


def _plain(record, names):
    vals = {}
    for name in names:
        value = record[name]
        vals[name] = value.id if hasattr(value, "_name") else value
    return vals


def partner_mark(env):
    """The highest partner id now: partners above it were created by the next run."""
    env.cr.execute("SELECT COALESCE(MAX(id), 0) FROM res_partner")
    return env.cr.fetchone()[0]


def floor_batches(env, seller, payloads, mark):
    """Odoo's floor's values, read outside the timing from what ``ours`` made for
    the same orders (``mark``: ``partner_mark`` before ours ran): per batch of
    50, the partners ours created (buyers, their delivery addresses, business
    buyers' companies: created again, by depth, in one ``create`` per depth),
    then the sale orders with ours' lines (adjustment lines included), all
    stripped of every Amazon field. The floor creates the same records."""
    refs = [e["order"]["AmazonOrderId"] for e in payloads]
    by_ref = {so.amazon_order_ref: so for so in env["sale.order"].search([
        ("amazon_seller_id", "=", seller.id), ("amazon_order_ref", "in", refs)])}
    batches, seen = [], set()
    for start in range(0, len(refs), BATCH):
        sale_orders = [by_ref[ref] for ref in refs[start:start + BATCH]]
        new = []
        for so in sale_orders:
            for partner in (so.partner_id, so.partner_shipping_id, so.partner_invoice_id):
                chain = []
                while partner and partner.id > mark and partner.id not in seen:
                    chain.append(partner)
                    seen.add(partner.id)
                    partner = partner.parent_id
                new += reversed(chain)
        depth = {}
        for partner in new:   # parents come before their children
            parent = partner.parent_id.id
            depth[partner.id] = depth[parent] + 1 if parent in depth else 0
        levels = []
        for level in range(max(depth.values(), default=-1) + 1):
            partners = [p for p in new if depth[p.id] == level]
            levels.append(([p.id for p in partners],
                           [dict(_plain(p, PARTNER_FIELDS), parent_id=p.parent_id.id or False)
                            for p in partners]))
        orders = []
        for so in sale_orders:
            vals = _plain(so, ORDER_FIELDS)
            vals.update(partner_id=so.partner_id.id, partner_invoice_id=so.partner_invoice_id.id,
                        partner_shipping_id=so.partner_shipping_id.id, tag_ids=[(6, 0, so.tag_ids.ids)])
            vals["order_line"] = [(0, 0, dict(_plain(line, LINE_FIELDS), tax_id=[(6, 0, line.tax_id.ids)]))
                                  for line in so.order_line.sorted(lambda ln: (ln.sequence, ln.id))]
            orders.append(vals)
        batches.append((levels, orders))
    return batches, len(seen)


def floor(env, batches):
    """Odoo's floor: the same partners and orders created, confirmed, invoiced
    and posted as bare batched recordset calls (superuser, the bulk-import
    context ours runs in), one commit per batch of 50. No connector logic."""
    from odoo.addons.amazon_fbm_connector.services.order_builder import IMPORT_CONTEXT
    Partner = env["res.partner"].sudo().with_context(**IMPORT_CONTEXT)
    SaleOrder = env["sale.order"].sudo().with_context(**IMPORT_CONTEXT)
    created, partners, new_id = SaleOrder, 0, {}
    for levels, vals_list in batches:
        for src_ids, partner_vals in levels:
            for vals in partner_vals:
                vals["parent_id"] = new_id.get(vals["parent_id"], vals["parent_id"])
            records = Partner.create(partner_vals)
            new_id.update(zip(src_ids, records.ids))
            partners += len(records)
        for vals in vals_list:
            for name in ("partner_id", "partner_invoice_id", "partner_shipping_id"):
                vals[name] = new_id.get(vals[name], vals[name])
        sale_orders = SaleOrder.create(vals_list)
        sale_orders.action_confirm()
        sale_orders._create_invoices().action_post()  # pylint: disable=protected-access
        env.cr.commit()
        created |= sale_orders
    return created, partners


def check_floor(sale_orders, ours_orders):
    """The floor made the same orders as ours: same count, confirmed, posted, same totals."""
    assert len(sale_orders) == len(ours_orders), (len(sale_orders), len(ours_orders))
    assert all(so.state == "sale" and so.invoice_ids.state == "posted" for so in sale_orders)
    totals = sorted(round(so.amount_total, 2) for so in sale_orders)
    assert totals == sorted(round(so.amount_total, 2) for so in ours_orders), "floor orders differ from ours"


# ================================================================ the runs
def repeats_for(n):
    """How many pairs of runs (ours and the floor) at ``n`` orders: a run of 100
    orders lasts seconds, where the machine's noise (+-5 % from one run to the
    next) is as large as the difference to measure, so small sizes get more
    pairs. ``BENCH_REPEATS`` overrides it for every size."""
    if os.environ.get("BENCH_REPEATS"):
        return max(1, int(os.environ["BENCH_REPEATS"]))
    return 10 if n <= 100 else 3 if n <= 1000 else 2


# Student's t, two-sided 95 %, by degrees of freedom (pairs - 1)
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
       10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 19: 2.093, 24: 2.064, 29: 2.045}


def compare(runs_ours, runs_floor):
    """ours against the floor, as ``floor seconds / ours seconds`` (above 1: ours
    is faster): the ratio of the mean times, and the 95 % confidence interval of
    the mean of the pairs' ratios (Student's t; pair i: the i-th run of each,
    next to each other in time), ``None`` with one pair. An interval that holds
    1.0 means the difference is not measurable on this machine with these runs."""
    import statistics
    mean_ours = statistics.mean(r.seconds for r in runs_ours)
    mean_floor = statistics.mean(r.seconds for r in runs_floor)
    ratios = [f.seconds / o.seconds for o, f in zip(runs_ours, runs_floor)]
    interval = None
    if len(ratios) > 1:
        # the table's nearest degrees of freedom at or below: a wider, safe interval
        t = T95[max(k for k in T95 if k <= len(ratios) - 1)]
        mean, half = statistics.mean(ratios), t * statistics.stdev(ratios) / len(ratios) ** 0.5
        interval = (mean - half, mean + half)
    return mean_ours, mean_floor, mean_floor / mean_ours, interval


class OursRun:
    """One timed run of ours at ``n`` orders under a fresh seller, checked."""

    def __init__(self, env, n, label):
        self.env, self.n = env, n
        self.seller = setup(env, name="Bench ours %d %s" % (n, label))
        self.payloads = payloads_for(n, n, "ours-%s" % label)
        self.mark = partner_mark(env)
        with Timer() as timer:
            ours(env, self.seller, self.payloads)
        self.seconds = timer.seconds
        self.sale_orders = check(env, self.seller, self.payloads)
        self.partners = env["res.partner"].search_count([("id", ">", self.mark)])


class FloorRun:
    """One timed run of Odoo's floor on the orders of an ``OursRun``, checked."""

    def __init__(self, env, source):
        batches, partners = floor_batches(env, source.seller, source.payloads, source.mark)
        assert partners == source.partners, ("partners ours created", source.partners, partners)
        env.cr.commit()
        with Timer() as timer:
            self.sale_orders, self.partners = floor(env, batches)
        self.seconds = timer.seconds
        check_floor(self.sale_orders, source.sale_orders)


def warm_up(env, n=20):
    """Ours and the floor once on a few orders before anything is timed: the
    first measured size does not pay the registry's and caches' warm-up."""
    source = OursRun(env, n, "warm-up")
    FloorRun(env, source)


def ours_vs_floor(env, n, repeats):
    """``repeats`` pairs of runs of ours and the floor, alternated O F, F O, O F ...
    so that drift on the machine, and which of the two runs first, fall on both;
    returns both lists of runs (the i-th of each: one pair). A floor run before
    its ours run uses the previous ours run's orders."""
    runs_ours, runs_floor, source = [], [], None
    for rep in range(repeats):
        if rep % 2 == 0:
            source = OursRun(env, n, "%d" % rep)
            runs_ours.append(source)
            runs_floor.append(FloorRun(env, source))
        else:
            runs_floor.append(FloorRun(env, source))
            source = OursRun(env, n, "%d" % rep)
            runs_ours.append(source)
    return runs_ours, runs_floor


# ============================================================ SP-API calls
def spapi_only(calls):
    """SP-API operations only: no injected faults, and no document download
    (a presigned S3 URL, not an SP-API call)."""
    return {op: count for op, count in calls.items()
            if count and not op.startswith("fault:") and op != "download"}


def unshipped_calls(env, n, seed=11, scale=1000.0):
    """SP-API calls of the unshipped flow's Amazon side for ``n`` orders on the
    emulator (report requested, polled, downloaded and parsed; every order
    priced by the All Orders report), then of the usual approach on the same
    data (the same report, then getOrderItems per order). Amazon's usage plans
    run ``scale`` times faster on the emulator and in our buckets."""
    import collections

    from odoo.addons.amazon_fbm_connector.services import report_parser
    from odoo.addons.amazon_fbm_connector.services.reports_adapter import ReportsAdapter
    from odoo.addons.amazon_fbm_connector.tools.spapi_emulator import Emulator, Scenario
    Param = env["ir.config_parameter"].sudo()
    old_scale = Param.get_param("amazon_fbm_connector.rate_scale")
    Param.set_param("amazon_fbm_connector.rate_scale", str(scale))
    env.cr.commit()
    try:
        scenario = Scenario.generate(n, seed=seed)
        with Emulator(scenario, rate_scale=scale) as emulator:
            seller = setup(env, emulator, "Bench calls %d" % n)
            request = env["amazon.report.request"]._request_unshipped(seller, seller.marketplace_ids, auto=False)
            while request.state in ("submitted", "in_progress"):
                request.action_check_status()
            raw = request._fetch_document().raw  # pylint: disable=protected-access
            text = ReportsAdapter.decode(raw, "GZIP" if raw[:2] == b"\x1f\x8b" else None)
            orders = list(report_parser.parse_unshipped(text, US).orders.values())
            book = request.price_report_id._price_book()  # pylint: disable=protected-access
            if hasattr(book, "load"):   # a stored price report is read batch by batch
                book.load([order.order_id for order in orders])
            for order in orders:
                book.price(order, fetch=False)
            assert len(orders) == n and all(o.priced for o in orders), "every order priced by the report"
            ours_calls = spapi_only(emulator.calls)
            before = collections.Counter(emulator.calls)
            client = seller._get_client()  # pylint: disable=protected-access
            report_id = client.reports().create_report("GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING", [US])
            while client.reports().get_report(report_id)["processingStatus"] != "DONE":
                pass
            report = client.reports().get_report(report_id)
            doc = client.reports().get_document(report["reportDocumentId"], report["reportType"])
            parsed = report_parser.parse_unshipped(client.reports().download(doc).text, US)
            adapter = client.orders("v0")
            for order_id in parsed.orders:
                adapter.get_order_items(order_id)
            peers_calls = spapi_only(collections.Counter(emulator.calls) - before)
    finally:
        Param.set_param("amazon_fbm_connector.rate_scale", old_scale or False)
        env.cr.commit()
    return ours_calls, peers_calls
