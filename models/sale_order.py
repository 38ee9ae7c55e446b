from odoo import Command, fields, models

from ..services.const import MFN


class SaleOrder(models.Model):
    _inherit = "sale.order"

    amazon_order_ref = fields.Char("Amazon Order ID", copy=False, index=True, readonly=True)
    amazon_seller_id = fields.Many2one("amazon.seller", copy=False, readonly=True, index=True)
    amazon_marketplace_id = fields.Many2one("amazon.marketplace", copy=False, readonly=True)
    amazon_fulfillment_channel = fields.Selection([(MFN, "Fulfilled by Merchant (FBM)"),
                                                   ("AFN", "Fulfilled by Amazon (FBA)")],
                                                  copy=False, readonly=True)
    amazon_status = fields.Char("Amazon Status", copy=False, readonly=True)
    amazon_total = fields.Monetary("Amazon Total", copy=False, readonly=True)
    amazon_gift_message = fields.Text(copy=False)
    amazon_workflow_message = fields.Text("Auto Workflow Problem", copy=False, readonly=True)
    amazon_ship_by_date = fields.Datetime(
        "Ship By", copy=False, readonly=True, index=True,
        help="The latest ship date Amazon promised the buyer; an order not shipped by then is late.")

    _sql_constraints = [
        ("amazon_order_uniq", "unique(amazon_seller_id, amazon_order_ref)",
         "This Amazon order is already imported for this seller."),
    ]

    # === BUSINESS METHODS ===
    def _amazon_subscribe_customers(self):
        """Make each order's customer a follower, as ``action_confirm`` does order
        by order (``message_subscribe``: active partners only, customers with
        the external default subtypes), for the whole batch in one ``create``;
        ``action_confirm`` then finds them following and skips them."""
        orders = self.filtered(lambda so: so.partner_id.active and so.partner_id not in so.message_partner_ids)
        if not orders:
            return
        every, _internal, external = self.env["mail.message.subtype"].default_subtypes(self._name)
        self.env["mail.followers"].sudo().create([{
            "res_model": self._name, "res_id": so.id, "partner_id": so.partner_id.id,
            "subtype_ids": [Command.set((external if so.partner_id.partner_share else every).ids)],
        } for so in orders])
        orders.invalidate_recordset(["message_follower_ids", "message_partner_ids"])

    def _amazon_apply_status(self, statuses):
        """Amazon's current status of orders Odoo already has (``{order id: status}``),
        as an import saw them again. Every flow calls this through the import
        pipeline; steps driven by a status change (e.g. a cancellation) extend it.
        Returns the orders whose status changed."""
        changed = self.filtered(lambda so: statuses.get(so.id) and so.amazon_status != statuses[so.id])
        by_status = {}
        for order in changed:
            by_status.setdefault(statuses[order.id], []).append(order.id)
        for status, ids in by_status.items():
            self.browse(ids).write({"amazon_status": status})
        return changed


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    amazon_order_item_id = fields.Char(
        "Amazon Order Item ID", copy=False, readonly=True, index=True,
        help="Amazon's id of this item in the order; shipment confirmations name it.")
    amazon_asin = fields.Char("ASIN", copy=False, readonly=True)
