from odoo import _, api, fields, models


class AmazonSequenceMixin(models.AbstractModel):
    """Records named from an ir.sequence (``_sequence_code``) when created."""

    _name = "amazon.sequence.mixin"
    _description = "Amazon: name from a sequence"
    _sequence_code = None

    name = fields.Char(default=lambda self: _("New"), readonly=True, copy=False)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", _("New")) == _("New"):
                vals["name"] = self.env["ir.sequence"].next_by_code(self._sequence_code) or _("New")
        return super().create(vals_list)
