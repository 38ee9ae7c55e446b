from odoo import api, models


class MrpBom(models.Model):
    _inherit = "mrp.bom"

    # === CRUD METHODS ===
    # A kit's BoM changed: the number of complete kits Amazon may sell changed.
    @api.model_create_multi
    def create(self, vals_list):
        boms = super().create(vals_list)
        boms._amazon_mark_kits()
        return boms

    def write(self, vals):
        self._amazon_mark_kits()
        res = super().write(vals)
        self._amazon_mark_kits()
        return res

    def unlink(self):
        self._amazon_mark_kits()
        return super().unlink()

    # === BUSINESS METHODS ===
    def _amazon_mark_kits(self):
        products = self.env["product.product"].with_context(active_test=False)
        for bom in self:
            products |= bom.product_id or bom.product_tmpl_id.with_context(
                active_test=False).product_variant_ids
        self.env["amazon.stock.mark"]._mark(products)


class MrpBomLine(models.Model):
    _inherit = "mrp.bom.line"

    # === CRUD METHODS ===
    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.bom_id._amazon_mark_kits()
        return lines

    def write(self, vals):
        res = super().write(vals)
        self.bom_id._amazon_mark_kits()
        return res

    def unlink(self):
        self.bom_id._amazon_mark_kits()
        return super().unlink()
