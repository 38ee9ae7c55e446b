from odoo import fields, models

# A product's stock on Amazon changes with these (archived: 0; a new SKU: a new offer).
STOCK_FIELDS = {"active", "type", "detailed_type", "default_code"}


class ProductProduct(models.Model):
    _inherit = "product.product"

    # === FIELDS ===
    amazon_stock_offer_ids = fields.One2many(
        "amazon.stock.offer", "product_id", string="Amazon Offers", readonly=True,
        groups="amazon_fbm_connector.group_amazon_user",
        help="The quantity each Amazon marketplace holds for this product.")

    # === CRUD METHODS ===
    def write(self, vals):
        res = super().write(vals)
        if STOCK_FIELDS & set(vals):
            self.env["amazon.stock.mark"]._mark(self.with_context(active_test=False))
        return res
