# pylint: disable=print-used
# (outside Odoo: what it prints is read by the test or shows its figures)
# Run inside ``odoo-bin shell`` by tests/servers: a seller wired to the test's
# emulator, Amazon's shipped orders listed into order data queues, and one Sale
# Order Report requested and Done on Amazon, all committed and waiting for the
# servers' cron threads. Settings come as JSON in AMAZON_FBM_SEED.
import json
import os
from datetime import timedelta

from odoo import fields
from odoo.addons.amazon_fbm_connector.models.amazon_order_queue import QUEUE_WORKER_CRONS

cfg = json.loads(os.environ["AMAZON_FBM_SEED"])
env = env  # noqa: F821  (given by odoo-bin shell)
env["ir.config_parameter"].sudo().set_param("amazon_fbm_connector.rate_scale", str(cfg["rate_scale"]))
env.company.country_id = env.ref("base.us")
tax = env["account.tax"].create({"name": "Sales Tax 8.25%", "amount": 8.25, "amount_type": "percent",
                                 "type_tax_use": "sale"})
env["product.product"].create([{"name": "Product %s" % sku, "default_code": sku, "detailed_type": "product",
                                "taxes_id": [(6, 0, tax.ids)]} for sku in cfg["skus"]])
workflow = env["amazon.sale.workflow"].create({"name": "Confirm + invoice + post", "confirm_order": True,
                                               "create_invoice": True, "validate_invoice": True})
seller = env["amazon.seller"].create({
    "name": "Two servers seller", "workflow_id": workflow.id, "order_prefix": "S-", "queue_size": cfg["queue_size"],
    "lwa_client_id": cfg["client_id"], "lwa_client_secret": cfg["client_secret"],
    "refresh_token": cfg["refresh_token"], "api_endpoint": cfg["url"], "lwa_endpoint": cfg["url"]})
env["amazon.marketplace"].create({
    "seller_id": seller.id, "reference_id": env.ref("amazon_fbm_connector.marketplace_us").id,
    "warehouse_id": env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1).id})

# Only the crons under test run in the servers: the queue workers and the reports.
crons = env["ir.cron"].browse([env.ref(x).id for x in QUEUE_WORKER_CRONS] +
                              [env.ref("amazon_fbm_connector.ir_cron_amazon_report_requests").id])
env["ir.cron"].search([("id", "not in", crons.ids)]).write({"active": False})

now = fields.Datetime.now()
queues = env["amazon.order.queue"]._import_shipped(seller, seller.marketplace_ids, now - timedelta(days=30), now,
                                                   stop_at=float("inf"))
request = env["amazon.report.request"]._request_unshipped(seller, seller.marketplace_ids, auto=True)
for _poll in range(10):
    if request.state not in ("submitted", "in_progress"):
        break
    request.action_check_status()
assert request.state == "done", (request.state, request.message)
crons.write({"nextcall": now - timedelta(minutes=1)})
env.cr.commit()
print("SEED " + json.dumps({"seller_id": seller.id, "request_id": request.id, "queues": len(queues),
                            "queue_lines": len(queues.line_ids), "cron_ids": crons.ids}))
