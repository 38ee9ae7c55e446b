from odoo import fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    amazon_tax_note = fields.Text(
        "Amazon Taxes", copy=False, readonly=True,
        help="Which taxes carry the tax Amazon charged on this order, and why.")
    amazon_tax_problem = fields.Text(
        "Amazon Tax Problem", copy=False, readonly=True,
        help="Odoo's taxes could not reproduce Amazon's: the configuration to check.")
