# Benchmark of the stock export (issue 20): N SKUs exported for the first time, then
# CHANGED of them changed, through the cron's own code (amazon.stock.offer
# ._cron_export_stock, pass after pass) against the emulator. Prints the SP-API calls
# per operation and the quota time they need under Amazon's default usage plans,
# against one patchListingsItem (and one getListingsItem) per SKU.
# Run by tools/bench.sh inside ``odoo-bin shell``:
#   BENCH_STOCK_N=10000 BENCH_STOCK_CHANGED=500 bash tools/bench.sh stock
import os
import random
import sys
import time

sys.path.insert(0, os.environ["AMAZON_FBM_ROOT"])
from odoo.addons.amazon_fbm_connector.services.const import RATE_LIMITS  # noqa: E402
from odoo.addons.amazon_fbm_connector.tools.spapi_emulator import Emulator, Scenario  # noqa: E402

N = int(os.environ.get("BENCH_STOCK_N", "10000"))
CHANGED = int(os.environ.get("BENCH_STOCK_CHANGED", "500"))
SCALE = float(os.environ.get("BENCH_STOCK_SCALE", "1000"))
US = "ATVPDKIKX0DER"
SKU = "STK-%05d"
OPERATIONS = ("searchListingsItems", "getListingsItem", "patchListingsItem", "createFeedDocument",
              "uploadFeedDocument", "createFeed", "getFeed", "getFeedDocument")


def quota_time(calls):
    """Seconds the calls need under Amazon's default plans, one after the other
    (the export makes them in one thread): per operation, (calls - burst) / rate."""
    total = 0.0
    for operation, count in calls.items():
        rate, burst = RATE_LIMITS.get(operation, (None, None))
        if rate and operation != "uploadFeedDocument":
            total += max(0, count - burst) / rate
    return total


def minutes(seconds):
    return "%.1f min" % (seconds / 60) if seconds >= 60 else "%.0f s" % seconds


env["ir.config_parameter"].sudo().set_param("amazon_fbm_connector.rate_scale", str(SCALE))
with Emulator(Scenario(), rate_scale=SCALE, polls_to_done=2) as emulator:
    client_id, secret = next(iter(emulator.apps.items()))
    warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
    seller = env["amazon.seller"].create({
        "name": "Bench stock", "merchant_id": "A2BENCHSTOCK", "lwa_client_id": client_id,
        "lwa_client_secret": secret, "refresh_token": next(iter(emulator.refresh_tokens)),
        "api_endpoint": emulator.url, "lwa_endpoint": emulator.url})
    marketplace = env["amazon.marketplace"].create({
        "seller_id": seller.id, "reference_id": env.ref("amazon_fbm_connector.marketplace_us").id,
        "warehouse_id": warehouse.id})
    rng = random.Random(20)
    t0 = time.time()
    products = env["product.product"].create([
        {"name": "Bench stock %d" % n, "default_code": SKU % n, "detailed_type": "product"}
        for n in range(N)])
    Quant = env["stock.quant"]
    for product in products:
        qty = rng.randint(0, 40)
        if qty:
            Quant._update_available_quantity(product, warehouse.lot_stock_id, qty)
        emulator.add_listing(product.default_code, US, product_type="HOME", quantity=0)
    marketplace.export_stock = True
    env.cr.commit()
    print("setup: %d products with stock and listings in %.0f s" % (N, time.time() - t0))

    def export(label):
        emulator.reset_quota()
        Offer = env["amazon.stock.offer"]
        start = time.time()
        passes = 0
        while passes < 200:
            passes += 1
            Offer._cron_export_stock()
            env.cr.commit()
            busy = Offer.search_count([("marketplace_id", "=", marketplace.id), "|",
                                       ("state", "=", "pending"), "&", ("to_send", "=", True),
                                       ("state", "!=", "error")])
            if not busy:
                break
        wall = time.time() - start
        calls = {op: emulator.calls[op] for op in OPERATIONS if emulator.calls[op]}
        total = sum(calls.values())
        print("\n### %s" % label)
        print("| operation | calls |")
        print("|---|---:|")
        for op, count in calls.items():
            print("| %s | %d |" % (op, count))
        print("| **all SP-API calls** | **%d** |" % total)
        print("429 answered: %d; cron passes: %d; wall time at rate scale %g: %.1f s; "
              "quota time at Amazon's default plans: %s"
              % (sum(emulator.throttled.values()), passes, SCALE, wall, minutes(quota_time(calls))))
        return calls

    first = export("First export: %d SKUs (product types unknown)" % N)
    naive = {"getListingsItem": N, "patchListingsItem": N}
    print("one patchListingsItem per SKU instead: %d calls, %s of quota"
          % (2 * N, minutes(quota_time(naive))))
    accepted = env["amazon.stock.offer"].search_count([("marketplace_id", "=", marketplace.id),
                                                      ("state", "=", "accepted")])
    wrong = [p.default_code for p in products[:200]
             if emulator.listing_quantity(p.default_code, US) != int(p.with_context(
                 warehouse=warehouse.id).free_qty)]
    print("accepted offers: %d of %d; Amazon's quantity differs from Odoo's for %d of 200 checked"
          % (accepted, N, len(wrong)))

    # Steady state: CHANGED products change (inventory adjustments: stock moves done).
    changed = products.browse(rng.sample(products.ids, CHANGED))
    quants = Quant.create([{"product_id": p.id, "location_id": warehouse.lot_stock_id.id,
                            "inventory_quantity": p.with_context(warehouse=warehouse.id).qty_available
                            + rng.randint(1, 5)} for p in changed])
    quants.action_apply_inventory()
    env.cr.commit()
    feeds_before = len(emulator.feed_log)
    steady = export("Steady state: %d changed among %d SKUs" % (CHANGED, N))
    sent = sum(f["messages"] for f in emulator.feed_log[feeds_before:]) + steady.get("patchListingsItem", 0)
    print("SKUs sent: %d (changed: %d): nothing sent for unchanged SKUs" % (sent, CHANGED))
    print("one patchListingsItem per changed SKU instead: %d calls, %s of quota"
          % (CHANGED, minutes(quota_time({"patchListingsItem": CHANGED}))))
    marketplace.export_stock = False
    seller.active = False
    env.cr.commit()
