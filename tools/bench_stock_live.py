# Stock end to end (issue 20): "a stock change reaches Amazon within one cron interval".
# A running odoo-bin with cron threads and the default cron settings (the stock export
# every 5 minutes) exports to the emulator; this script changes the stock of one product
# at a time, at random moments (an inventory adjustment applied through the ORM and
# committed, as a warehouse user does), and measures from the change's commit to the
# emulator holding the new quantity (its listing polled every 0.25 s).
#   BENCH_STOCK_LIVE_CHANGES=20 BENCH_STOCK_LIVE_WINDOW=600 bash tools/bench.sh stock_live
# BENCH_STOCK_LIVE_SKUS: offers on Amazon (default 200); BENCH_STOCK_LIVE_CRON_THREADS:
# the server's cron threads (default 2, Odoo's default). Quotas: Amazon's own (scale 1).
# Prints, as Markdown: latency p50 / p95 / max, and the SP-API calls the server made.
# Run by tools/bench.sh inside ``odoo-bin shell`` (``env`` is the shell's).
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.environ["AMAZON_FBM_ROOT"])
from odoo import SUPERUSER_ID, api  # noqa: E402
from odoo.addons.amazon_fbm_connector.tools.spapi_emulator import Emulator, Scenario  # noqa: E402
from tools.bench_common import start_cron_server, stop_server  # noqa: E402

CHANGES = int(os.environ.get("BENCH_STOCK_LIVE_CHANGES", "20"))
WINDOW = float(os.environ.get("BENCH_STOCK_LIVE_WINDOW", "600"))
SKUS = max(CHANGES, int(os.environ.get("BENCH_STOCK_LIVE_SKUS", "200")))
THREADS = os.environ.get("BENCH_STOCK_LIVE_CRON_THREADS", "2")
US = "ATVPDKIKX0DER"
SKU = "LIVE-%04d"

emulator = Emulator(Scenario(), rate_scale=1, polls_to_done=2).start()
env["ir.config_parameter"].sudo().set_param("amazon_fbm_connector.rate_scale", "1")  # noqa: F821
client_id, secret = next(iter(emulator.apps.items()))
warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)  # noqa: F821
seller = env["amazon.seller"].create({  # noqa: F821
    "name": "Bench stock live", "merchant_id": "A2BENCHLIVE", "lwa_client_id": client_id,
    "lwa_client_secret": secret, "refresh_token": next(iter(emulator.refresh_tokens)),
    "api_endpoint": emulator.url, "lwa_endpoint": emulator.url})
marketplace = env["amazon.marketplace"].create({  # noqa: F821
    "seller_id": seller.id, "reference_id": env.ref("amazon_fbm_connector.marketplace_us").id,  # noqa: F821
    "warehouse_id": warehouse.id})
rng = random.Random(int(os.environ.get("BENCH_STOCK_LIVE_SEED", "20")))
products = env["product.product"].create([  # noqa: F821
    {"name": "Live stock %d" % n, "default_code": SKU % n, "detailed_type": "product"} for n in range(SKUS)])
for product in products:
    env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, rng.randint(5, 40))  # noqa: F821
    emulator.add_listing(product.default_code, US, product_type="HOME", quantity=0)
marketplace.export_stock = True
env.cr.commit()  # noqa: F821
# The first export (every offer, the product types), before the clock starts.
Offer = env["amazon.stock.offer"]  # noqa: F821
for _n in range(50):
    Offer._cron_export_stock()
    env.cr.commit()  # noqa: F821
    if not Offer.search_count([("marketplace_id", "=", marketplace.id), "|", ("state", "=", "pending"),
                               "&", ("to_send", "=", True), ("state", "!=", "error")]):
        break
first = [p.default_code for p in products if emulator.listing_quantity(p.default_code, US) is None
         or emulator.listing_quantity(p.default_code, US) != int(p.with_context(warehouse=warehouse.id).free_qty)]
if first:
    raise SystemExit("the first export left %d SKUs different on Amazon" % len(first))
cron = env.ref("amazon_fbm_connector.ir_cron_amazon_stock_export")  # noqa: F821
interval, unit = cron.interval_number, cron.interval_type
lot_stock, warehouse_id = warehouse.lot_stock_id.id, warehouse.id
print("setup: %d SKUs on Amazon; stock export cron every %d %s (default), %s cron threads"
      % (SKUS, interval, unit, THREADS))
emulator.reset_quota()
calls_before = dict(emulator.calls)

server = start_cron_server(env.cr.dbname, "stock-live", THREADS)  # noqa: F821
start = time.time()
moments = sorted(start + rng.uniform(0, WINDOW) for _n in range(CHANGES))
changed = rng.sample(products.ids, CHANGES)
pending = {}      # sku -> (quantity expected on Amazon, commit time)
latency = {}
try:
    while moments or pending:
        now = time.time()
        if moments and moments[0] <= now:
            moments.pop(0)
            with env.registry.cursor() as cr:  # noqa: F821
                wenv = api.Environment(cr, SUPERUSER_ID, {})
                product = wenv["product.product"].browse(changed[len(pending) + len(latency)])
                on_hand = product.with_context(warehouse=warehouse_id).qty_available
                new = on_hand + rng.choice([-3, -2, -1, 1, 2, 3, 5, 10]) if on_hand > 3 else on_hand + 5
                wenv["stock.quant"].with_context(inventory_mode=True).create({
                    "product_id": product.id, "location_id": lot_stock,
                    "inventory_quantity": new}).action_apply_inventory()
                sku = product.default_code
            pending[sku] = (int(new), time.time())    # committed when the cursor closed
        for sku, (qty, committed) in list(pending.items()):
            if emulator.listing_quantity(sku, US) == qty:
                latency[sku] = time.time() - committed
                del pending[sku]
        if pending and now - min(c for _q, c in pending.values()) > 3 * 60 * interval + 120:
            print("not on Amazon after %.0f s: %s" % (now - min(c for _q, c in pending.values()), sorted(pending)))
            break
        time.sleep(0.25)
finally:
    stop_server(server)
wall = time.time() - start
calls = {op: n - calls_before.get(op, 0) for op, n in emulator.calls.items()
         if n - calls_before.get(op, 0) and not op.startswith("fault:")}
throttled = sum(emulator.throttled.values())
emulator.stop()
values = sorted(latency.values())


def pct(q):
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


print()
print("### Stock end to end: %d changes at random moments over %.0f s, odoo-bin with %s cron threads, "
      "default cron interval (%d %s), Amazon's quotas" % (CHANGES, WINDOW, THREADS, interval, unit))
print()
print("| changes on Amazon | latency p50 | p95 | max | mean |")
print("|---|---|---|---|---|")
print("| %d / %d | %.0f s | %.0f s | %.0f s | %.0f s |" % (
    len(values), CHANGES, pct(0.5), pct(0.95), values[-1] if values else float("nan"),
    statistics.mean(values) if values else float("nan")))
print()
print("| operation (the server, over %.0f s) | calls |" % wall)
print("|---|---|")
for op in sorted(calls):
    print("| %s | %d |" % (op, calls[op]))
print("429 answered: %d" % throttled)
env.cr.rollback()  # noqa: F821  # the shell's snapshot is old: the server wrote the seller since
seller.active = False
env.cr.commit()  # noqa: F821
