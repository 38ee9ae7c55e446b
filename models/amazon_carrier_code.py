from odoo import api, fields, models


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
