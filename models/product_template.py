from odoo import fields, models

from .product_product import STOCK_FIELDS


class ProductTemplate(models.Model):
    _inherit = "product.template"

    # === FIELDS ===
    amazon_stock_offer_ids = fields.One2many(
        "amazon.stock.offer", "product_tmpl_id", string="Amazon Offers", readonly=True,
        groups="amazon_fbm_connector.group_amazon_user",
        help="The quantity each Amazon marketplace holds for this product's variants.")

    # === CRUD METHODS ===
    def write(self, vals):
        res = super().write(vals)
        if STOCK_FIELDS & set(vals):
            self.env["amazon.stock.mark"]._mark(
                self.with_context(active_test=False).product_variant_ids)
        return res
