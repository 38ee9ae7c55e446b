from odoo import _, api, fields, models
from odoo.exceptions import UserError

# The context key that validates without the check (the wizard's "Validate Anyway").
SKIP_CHECK = "amazon_skip_shipping_check"


class StockPicking(models.Model):
    """Check before validating: an Amazon FBM delivery asks for what Amazon's shipment
    confirmation requires (a carrier and a tracking number) before it is validated,
    instead of Amazon refusing it afterwards, one missing field per round trip."""

    _inherit = "stock.picking"

    # === FIELDS ===
    amazon_ship_by_date = fields.Datetime(related="sale_id.amazon_ship_by_date", string="Ship By")
    amazon_time_to_ship = fields.Char("Time to Ship", compute="_compute_amazon_time_to_ship",
                                      help="Time left until Amazon's ship-by date of the order.")

    # === COMPUTE METHODS ===
    @api.depends("sale_id.amazon_ship_by_date", "sale_id.amazon_status", "state")
    def _compute_amazon_time_to_ship(self):
        now = fields.Datetime.now()
        for picking in self:
            order = picking.sale_id
            picking.amazon_time_to_ship = order._amazon_time_to_ship(now) if order else False

    # === ACTION METHODS ===
    def button_validate(self):
        if not self.env.context.get(SKIP_CHECK):
            missing = self._amazon_shipping_missing()
            if missing:
                if len(self) == 1:
                    return self._amazon_action_shipping_wizard()
                raise UserError(_(
                    "Amazon needs a carrier and a tracking number for each package. Complete "
                    "these deliveries (Additional Info), or validate them one by one:\n%s",
                    "\n".join("- %s: %s" % (p.display_name, ", ".join(what))
                              for p, what in missing.items())))
        return super().button_validate()

    # === BUSINESS METHODS ===
    def _amazon_to_confirm(self):
        """The deliveries whose validation will be confirmed to Amazon."""
        if self.env.context.get("amazon_shipped_on_amazon"):
            return self.browse()
        return self.filtered(lambda p: p.state not in ("done", "cancel")
                             and p.picking_type_code == "outgoing"
                             and p.location_dest_id.usage == "customer"
                             and p.sale_id.amazon_order_ref
                             and p.sale_id.amazon_fulfillment_channel == "MFN"
                             and p.sale_id.amazon_status not in ("Shipped", "Canceled"))

    def _amazon_shipping_missing(self):
        """``{picking: [what is missing]}`` of the deliveries Amazon would refuse."""
        out = {}
        for picking in self._amazon_to_confirm():
            what = []
            if not picking.carrier_id:
                what.append(_("carrier"))
            if not (picking.carrier_tracking_ref or "").strip():
                what.append(_("tracking number"))
            if what:
                out[picking] = what
        return out

    def _amazon_action_shipping_wizard(self):
        self.ensure_one()
        wizard = self.env["amazon.shipping.check.wizard"].create({
            "picking_id": self.id, "carrier_id": self.carrier_id.id,
            "tracking_ref": self.carrier_tracking_ref})
        return {
            "name": _("Before Amazon is told: carrier and tracking number"),
            "type": "ir.actions.act_window", "res_model": "amazon.shipping.check.wizard",
            "res_id": wizard.id, "view_mode": "form", "target": "new",
            # validation flags go on (skip_backorder...); not the view flags of where the
            # seller came from (create=False of the FBM orders would open the wizard read-only)
            "context": {k: v for k, v in self.env.context.items()
                        if k not in ("create", "edit", "delete") and not k.startswith("default_")},
        }
