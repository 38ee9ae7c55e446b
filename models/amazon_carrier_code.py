from odoo import Command, _, api, fields, models


class AmazonCarrierCode(models.Model):
    """One of Amazon's carrier codes, and the Odoo carriers sent under it.

    A carrier whose name is (or starts with) an Amazon carrier code needs no
    line here; a carrier Amazon does not know is sent as ``Other`` with its name."""

    _name = "amazon.carrier.code"
    _description = "Amazon Carrier Code"
    _order = "sequence, code"

    code = fields.Char(
        "Amazon Carrier Code", required=True,
        help="The carrierCode Amazon expects in a shipment confirmation, spelled as Amazon "
             "lists it (e.g. UPS, USPS, FedEx, DHL, Royal Mail, Deutsche Post).")
    name = fields.Char(compute="_compute_name", store=True, readonly=False,
                       help="Label shown in Odoo; defaults to the code.")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    carrier_ids = fields.Many2many(
        "delivery.carrier", string="Odoo Carriers",
        help="Odoo shipping methods confirmed to Amazon under this code, whatever their names.")

    _sql_constraints = [("code_uniq", "unique(code)", "This Amazon carrier code is already listed.")]

    # === COMPUTE METHODS ===
    @api.depends("code")
    def _compute_name(self):
        for rec in self:
            rec.name = rec.name or rec.code

    # === ACTION METHODS ===
    def action_create_carrier(self):
        """One click: the Odoo carrier (shipping method) for this Amazon code."""
        carriers = self._amazon_carrier()
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "title": _("Amazon"), "type": "success",
            "message": _("Carrier %s is ready: choose it on deliveries.",
                         ", ".join(carriers.mapped("name"))),
            "next": {"type": "ir.actions.client", "tag": "soft_reload"}}}

    # === BUSINESS METHODS ===
    def _amazon_carrier(self):
        """The Odoo carrier of each code: the one linked, else one named like the code,
        else a new one (fixed price 0, linked to the code)."""
        out = self.env["delivery.carrier"]
        Carrier = self.env["delivery.carrier"].sudo().with_context(active_test=False)
        product = self.env.ref("amazon_fbm_connector.product_amazon_shipping")
        for rec in self:
            carrier = rec.carrier_ids.filtered("active")[:1] or Carrier.search(
                [("name", "=ilike", rec.name or rec.code), ("active", "=", True)], limit=1)
            if not carrier:
                carrier = Carrier.create({"name": rec.name or rec.code, "delivery_type": "fixed",
                                          "fixed_price": 0.0, "product_id": product.id})
            if carrier not in rec.carrier_ids:
                rec.sudo().carrier_ids = [Command.link(carrier.id)]
            out |= carrier
        return out.with_env(self.env)
