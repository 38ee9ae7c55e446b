from odoo import api, models


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
