from odoo import models


class StockMove(models.Model):
    _inherit = "stock.move"

    # === BUSINESS METHODS ===
    # A move done (receipt, delivery, inventory adjustment, manufacturing), confirmed
    # (an order confirmed) or cancelled (an order cancelled) changes what Amazon may sell.
    def _action_done(self, cancel_backorder=False):
        moves = super()._action_done(cancel_backorder=cancel_backorder)
        self.env["amazon.stock.mark"]._mark(self.product_id | moves.product_id)
        return moves

    def _action_confirm(self, merge=True, merge_into=False):
        moves = super()._action_confirm(merge=merge, merge_into=merge_into)
        self.env["amazon.stock.mark"]._mark(self.product_id | moves.product_id)
        return moves

    def _action_cancel(self):
        res = super()._action_cancel()
        self.env["amazon.stock.mark"]._mark(self.product_id)
        return res
