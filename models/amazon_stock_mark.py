from odoo import api, fields, models


class AmazonStockMark(models.Model):
    """A product whose stock changed since the last stock export.

    Stock moves, orders and BoMs only insert marks: they never write an offer
    that an export may be sending at that moment. The export consumes the marks
    (``amazon.stock.offer._apply_marks``)."""

    _name = "amazon.stock.mark"
    _description = "Amazon Stock Change Mark"
    _log_access = False

    # === FIELDS ===
    product_id = fields.Many2one("product.product", required=True, ondelete="cascade", index=True)

    # === BUSINESS METHODS ===
    @api.model
    def _mark(self, products):
        """Mark ``products`` for the next export, when some marketplace exports stock."""
        products = products.filtered(lambda p: p.id)
        if not products:
            return
        exporting = self.env["amazon.marketplace"].sudo().search_count(
            [("export_stock", "=", True)], limit=1)
        if exporting:
            self.sudo().create([{"product_id": pid} for pid in set(products.ids)])
