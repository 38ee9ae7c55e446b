from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    amazon_anonymised = fields.Boolean(
        "Anonymised Amazon Buyer", readonly=True, copy=False, index=True,
        help="The buyer's personal data was removed after the seller's retention period.")
    amazon_anonymised_date = fields.Datetime(readonly=True, copy=False)
