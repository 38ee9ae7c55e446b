from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..models.stock_picking_amazon_check import SKIP_CHECK


class AmazonShippingCheckWizard(models.TransientModel):
    """Validating an Amazon FBM delivery: the carrier and tracking number Amazon's
    shipment confirmation requires, asked before the delivery is validated."""

    _name = "amazon.shipping.check.wizard"
    _description = "Amazon Delivery: Carrier and Tracking Number"

    # === FIELDS ===
    picking_id = fields.Many2one("stock.picking", required=True, readonly=True, ondelete="cascade")
    amazon_order_ref = fields.Char(related="picking_id.sale_id.amazon_order_ref")
    carrier_id = fields.Many2one(
        "delivery.carrier", string="Carrier",
        help="Who delivers the package. Amazon receives the carrier code of this carrier.")
    carrier_code_id = fields.Many2one(
        "amazon.carrier.code", string="Or Amazon Carrier",
        help="No carrier in Odoo yet? Pick Amazon's carrier code (UPS, USPS, FedEx, DHL, "
             "Royal Mail, DPD, GLS, Hermes, Deutsche Post...): its Odoo carrier is created.")
    tracking_ref = fields.Char(
        "Tracking Number", help="The carrier's tracking number: Amazon requires one for every package.")

    # === COMPUTE METHODS ===
    @api.onchange("carrier_code_id")
    def _onchange_carrier_code_id(self):
        for wiz in self.filtered("carrier_code_id"):
            linked = wiz.carrier_code_id.carrier_ids[:1]
            if linked:
                wiz.carrier_id = linked

    # === ACTION METHODS ===
    def action_validate(self):
        self.ensure_one()
        carrier = self.carrier_id
        if not carrier and self.carrier_code_id:
            carrier = self.carrier_code_id._amazon_carrier()
        missing = []
        if not carrier:
            missing.append(_("the carrier"))
        if not (self.tracking_ref or "").strip():
            missing.append(_("the tracking number"))
        if missing:
            raise UserError(_("Amazon requires %s to confirm the shipment.", _(" and ").join(missing)))
        self.picking_id.write({"carrier_id": carrier.id, "carrier_tracking_ref": self.tracking_ref.strip()})
        return self.picking_id.button_validate()

    def action_validate_anyway(self):
        """Validate now; Amazon is told once carrier and tracking number are entered
        (the delivery waits as Failed, with what to fix)."""
        self.ensure_one()
        return self.picking_id.with_context(**{SKIP_CHECK: True}).button_validate()
