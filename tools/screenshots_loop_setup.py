# Run by tools/screenshots_loop.sh inside ``odoo-bin shell``: two Amazon orders
# shipped, one delivery confirmed to the emulator and one Amazon refused; prints
# the deliveries' ids for the screenshots.
import os
import sys

sys.path.insert(0, os.environ["AMAZON_FBM_ROOT"])
from odoo.addons.amazon_fbm_connector.services.normalize import from_orders_api  # noqa: E402
from odoo.addons.amazon_fbm_connector.services.order_builder import OrderBuilder  # noqa: E402
from odoo.addons.amazon_fbm_connector.tools.spapi_emulator import Emulator, Scenario  # noqa: E402
from tools.bench_common import setup  # noqa: E402

env.ref("base.user_admin").write({"password": "admin"})
env["ir.config_parameter"].sudo().set_param("amazon_fbm_connector.rate_scale", "20")
scenario = Scenario()
refs = [scenario.add_order(items=[{"sku": "SKU-0001", "qty": 2, "price": "31.98", "tax": "2.64"},
                                  {"sku": "SKU-0002", "qty": 1, "price": "12.50", "tax": "1.03"}],
                           buyer_name="Grace Hopper", buyer_email="grace.demo@marketplace.amazon.com"),
        scenario.add_order(items=[{"sku": "SKU-0003", "qty": 1, "price": "24.00", "tax": "1.98"}],
                           buyer_name="Alan Turing", buyer_email="alan.demo@marketplace.amazon.com")]
with Emulator(scenario, rate_scale=20) as emulator:
    seller = setup(env, emulator, "Demo Seller (emulator)")
    postage = env["product.product"].create({"name": "Postage", "detailed_type": "service"})
    ups = env["delivery.carrier"].create({"name": "UPS Ground", "product_id": postage.id})
    speedy = env["delivery.carrier"].create({"name": "Speedy Parcels", "product_id": postage.id})
    env["amazon.carrier.code"].create({"code": "SPEEDY", "carrier_ids": [(4, speedy.id)]})
    results = OrderBuilder(seller).build([from_orders_api(scenario.orders[r]["order"], scenario.orders[r]["items"])
                                          for r in refs])
    orders = env["sale.order"].browse([r.sale_order.id for r in results])
    orders.action_confirm()
    pickings = orders.picking_ids
    for picking, carrier, tracking in zip(pickings, (ups, speedy), ("1Z999AA10123456784", "SP-000417")):
        picking.write({"carrier_id": carrier.id, "carrier_tracking_ref": tracking})
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        picking.move_ids.picked = True
        picking.with_context(skip_sms=True).button_validate()
    env["stock.picking"]._cron_amazon_confirm_shipments()
    env.cr.commit()
    print("PICKINGS", " ".join(str(p.id) for p in pickings), flush=True)
