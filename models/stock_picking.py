from odoo import api, fields, models

from ..services import delivery


class StockPicking(models.Model):
    _inherit = "stock.picking"

    amazon_waiting_stock = fields.Boolean(
        copy=False, index=True,
        help="Amazon already shipped this order; the delivery waits for tracked stock and is "
             "validated by a scheduled action once stock arrives.")

    @api.model
    def _cron_amazon_dispatch_waiting(self, limit=200):
        pickings = self.search([("amazon_waiting_stock", "=", True),
                                ("state", "not in", ("done", "cancel"))], limit=limit)
        orders = pickings.sale_id
        still = delivery.deliver(orders)
        (pickings - still).filtered(lambda p: p.state in ("done", "cancel")).amazon_waiting_stock = False
        return pickings - still
