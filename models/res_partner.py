from odoo import fields, models
from odoo.tools import sql

# The import finds Amazon buyers by e-mail among partners without a parent, a batch
# at a time (order_builder._prefetch_partners, creation_lock.guard_buyers): without
# this index each batch scans every partner of the database.
BUYER_EMAIL_INDEX = "res_partner_amazon_buyer_email_index"


class ResPartner(models.Model):
    _inherit = "res.partner"

    amazon_anonymised = fields.Boolean(
        "Anonymised Amazon Buyer", readonly=True, copy=False, index=True,
        help="The buyer's personal data was removed after the seller's retention period.")
    amazon_anonymised_date = fields.Datetime(readonly=True, copy=False)

    def init(self):
        res = super().init()
        sql.create_index(self.env.cr, BUYER_EMAIL_INDEX, self._table, ["email"], where="parent_id IS NULL")
        return res
