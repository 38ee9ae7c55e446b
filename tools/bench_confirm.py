# Benchmark of shipment confirmations: N validated deliveries confirmed to the
# emulator through the cron code path. Reports confirmShipment calls, 429s
# Amazon answered, wall time at the emulator's rate scale, and the quota time
# the same calls need under Amazon's default plan (2 requests/s, burst 10).
# Run by tools/bench.sh inside ``odoo-bin shell``; prints a Markdown table.
import os
import sys

sys.path.insert(0, os.environ["AMAZON_FBM_ROOT"])
from odoo.addons.amazon_fbm_connector.services.auto_workflow import AutoWorkflow  # noqa: E402
from odoo.addons.amazon_fbm_connector.services.const import RATE_LIMITS  # noqa: E402
from odoo.addons.amazon_fbm_connector.services.normalize import from_orders_api  # noqa: E402
from odoo.addons.amazon_fbm_connector.services.order_builder import OrderBuilder  # noqa: E402
from odoo.addons.amazon_fbm_connector.tools.spapi_emulator import Emulator, Scenario  # noqa: E402
from tools.bench_common import Timer, quota_seconds, setup  # noqa: E402

N = int(os.environ.get("BENCH_CONFIRM_N", "1000"))
SCALE = float(os.environ.get("BENCH_CONFIRM_SCALE", "10"))
env["ir.config_parameter"].sudo().set_param("amazon_fbm_connector.rate_scale", str(SCALE))
env.cr.commit()

scenario = Scenario.generate(N, seed=23)
with Emulator(scenario, rate_scale=SCALE) as emulator:
    seller = setup(env, emulator, "Bench confirm")
    env["sale.order"].search([("amazon_seller_id", "=", seller.id)])  # fresh seller per run
    ups = env["delivery.carrier"].search([("name", "=", "UPS Ground")], limit=1) or \
        env["delivery.carrier"].create({"name": "UPS Ground", "product_id": env["product.product"].create(
            {"name": "Bench postage", "detailed_type": "service"}).id})
    refs = list(scenario.orders)
    with Timer() as t_import:
        for start in range(0, N, 200):
            chunk = [from_orders_api(scenario.orders[r]["order"], scenario.orders[r]["items"])
                     for r in refs[start:start + 200]]
            results = OrderBuilder(seller).build(chunk)
            AutoWorkflow(None, force_confirm=True).run(
                env["sale.order"].browse([r.sale_order.id for r in results if r.sale_order]))
            env.cr.commit()
    orders = env["sale.order"].search([("amazon_seller_id", "=", seller.id), ("amazon_order_ref", "in", refs)])
    assert len(orders) == N, len(orders)
    pickings = orders.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))
    with Timer() as t_validate:
        for start in range(0, len(pickings), 200):
            chunk = pickings[start:start + 200]
            for picking in chunk:
                picking.write({"carrier_id": ups.id, "carrier_tracking_ref": "1ZBENCH%08d" % picking.id})
            for move in chunk.move_ids:
                move.quantity = move.product_uom_qty
            chunk.move_ids.picked = True
            chunk.with_context(skip_backorder=True, skip_sms=True).button_validate()
            env.cr.commit()
    to_send = pickings.filtered(lambda p: p.amazon_confirm_state == "to_send")
    assert len(to_send) == N, (len(to_send), set(pickings.mapped("amazon_confirm_state")))
    emulator.reset_state()
    Picking = env["stock.picking"]
    with Timer() as t_send:
        runs = 0
        while Picking.search_count([("id", "in", pickings.ids), ("amazon_confirm_state", "=", "to_send")]):
            Picking._cron_amazon_confirm_shipments(max_seconds=90)
            runs += 1
    pickings.invalidate_recordset()
    states = {s: len(pickings.filtered(lambda p, s=s: p.amazon_confirm_state == s))
              for s in set(pickings.mapped("amazon_confirm_state"))}
    shipped = sum(1 for r in refs if scenario.orders[r]["order"]["OrderStatus"] == "Shipped")
    calls = emulator.calls["confirmShipment"]
    throttled = emulator.throttled["confirmShipment"]
    quota = quota_seconds({"confirmShipment": calls}, RATE_LIMITS)
    print("import %.1fs, validate %d deliveries %.1fs, confirm %.1fs in %d cron run(s): %s"
          % (t_import.seconds, len(pickings), t_validate.seconds, t_send.seconds, runs, states), flush=True)
    print()
    print("| deliveries | confirmShipment calls | 429 from Amazon | orders Shipped on Amazon "
          "| wall time at rate scale %g (s) | quota time at Amazon's default plan (min) |" % SCALE)
    print("|---:|---:|---:|---:|---:|---:|")
    print("| %d | %d | %d | %d | %.1f | %.1f |" % (len(pickings), calls, throttled, shipped,
                                                t_send.seconds, quota / 60))
    assert throttled == 0 and shipped == N and states.get("sent") == N, (throttled, shipped, states)
