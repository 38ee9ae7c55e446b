from odoo import _, api, models
from odoo.exceptions import ValidationError


class AmazonSeller(models.Model):
    _inherit = "amazon.seller"

    # === CRUD METHODS ===
    @api.constrains("import_days")
    def _check_import_days(self):
        for seller in self:
            if seller.import_days < 0:
                raise ValidationError(_(
                    "Look Back (Days) of seller %(seller)s cannot be negative (it is %(days)s): "
                    "it is how many days before now an import starts (0: the default, 30).",
                    seller=seller.name, days=seller.import_days))
