from odoo import fields, models
from odoo.tools import float_compare


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    # === FIELDS ===
    amazon_order_item_id = fields.Char(
        "Amazon Order Item ID", copy=False, readonly=True, index=True,
        help="Amazon's id of this item in the order; shipment confirmations name it.")
    amazon_asin = fields.Char("ASIN", copy=False, readonly=True)

    # === BUSINESS METHODS ===
    def _prepare_procurement_values(self, group_id=False):
        """The delivery of an Amazon order is due by Amazon's ship-by date, not by
        the products' lead time from the import."""
        values = super()._prepare_procurement_values(group_id)
        order = self.order_id
        if order.amazon_ship_by_date and not order.commitment_date:
            values.update({"date_deadline": order.amazon_ship_by_date,
                           "date_planned": order._amazon_planned_date()})
        return values

    def _amazon_reduce_moves(self, cut):
        """Take ``cut`` units off the line's open delivery moves first: Odoo then sees
        nothing left to procure (it would otherwise plan a return from the customer)."""
        self.ensure_one()
        moves = self.move_ids.filtered(lambda m: m.state not in ("done", "cancel")
                                       and m.location_dest_id.usage == "customer"
                                       and m.product_id == self.product_id)
        for move in moves.sorted("id", reverse=True):
            if cut <= 0:
                break
            units = self.product_uom._compute_quantity(cut, move.product_uom)
            take = min(units, move.product_uom_qty)
            if float_compare(take, move.product_uom_qty, precision_rounding=move.product_uom.rounding) >= 0:
                move._action_cancel()
            else:
                move.product_uom_qty -= take
                if move.quantity > move.product_uom_qty:
                    move.quantity = move.product_uom_qty
            cut -= move.product_uom._compute_quantity(take, self.product_uom)
