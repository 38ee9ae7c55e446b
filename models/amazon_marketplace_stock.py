from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class AmazonMarketplace(models.Model):
    """FBM quantities sent to Amazon (the marketplace's stock export settings)."""

    _inherit = "amazon.marketplace"

    # === FIELDS ===
    export_stock = fields.Boolean(
        "Export Stock", default=False,
        help="Send Amazon the quantity Odoo can sell of every product offered on this "
             "marketplace (the free quantity in its FBM Warehouse), within minutes of a change, "
             "so Amazon never sells what Odoo no longer has.")
    stock_reserve = fields.Integer(
        "Stock Reserve", default=0,
        help="Units of each product held back from Amazon (for other channels, or as a "
             "safety margin): Amazon is offered the free quantity less this, never below 0.")
    stock_offer_ids = fields.One2many("amazon.stock.offer", "marketplace_id", string="Stock Offers",
                                      readonly=True,
                                      help="The quantity Amazon holds for each SKU of this marketplace.")
    stock_offer_count = fields.Integer("Offers on Amazon", compute="_compute_stock_counts",
                                       help="The SKUs whose quantity this marketplace exports.")
    stock_error_count = fields.Integer("Stock Errors", compute="_compute_stock_counts",
                                       help="SKUs whose quantity Amazon rejected.")
    stock_export_message = fields.Text(
        "Stock Export Problem", readonly=True,
        help="Why the last stock export of this marketplace stopped (empty: it went through).")
    stock_export_date = fields.Datetime("Stock Export Checked On", readonly=True)

    # === COMPUTE METHODS ===
    def _compute_stock_counts(self):
        Offer = self.env["amazon.stock.offer"]
        totals = dict(Offer._read_group([("marketplace_id", "in", self.ids)], ["marketplace_id"],
                                        ["__count"]))
        errors = dict(Offer._read_group([("marketplace_id", "in", self.ids), ("state", "=", "error")],
                                        ["marketplace_id"], ["__count"]))
        for mp in self:
            mp.stock_offer_count = totals.get(mp, 0)
            mp.stock_error_count = errors.get(mp, 0)

    @api.constrains("export_stock", "warehouse_id", "stock_reserve")
    def _check_stock_export(self):
        for mp in self:
            if mp.export_stock and not mp.warehouse_id:
                raise ValidationError(_("Set the FBM Warehouse of %s: its stock is what Amazon is "
                                        "offered.", mp.display_name))
            if mp.stock_reserve < 0:
                raise ValidationError(_("The Stock Reserve cannot be negative."))

    # === CRUD METHODS ===
    def write(self, vals):
        res = super().write(vals)
        if {"export_stock", "stock_reserve", "warehouse_id"} & set(vals):
            # Every offer's quantity may differ now: compare them all at the next export.
            self.env["amazon.stock.offer"].sudo().search(
                [("marketplace_id", "in", self.ids)]).write({"to_send": True})
            if any(self.mapped("export_stock")):
                self.env["amazon.stock.offer"]._trigger_export()
        return res

    # === ACTION METHODS ===
    def action_open_stock_offers(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "amazon_fbm_connector.action_amazon_stock_offer")
        action["domain"] = [("marketplace_id", "in", self.ids)]
        return action

    def action_open_stock_errors(self):
        action = self.action_open_stock_offers()
        action["context"] = {"search_default_rejected": 1}
        return action
