
from odoo import fields, models


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
