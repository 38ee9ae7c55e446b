from odoo import _, api, models
from odoo.exceptions import UserError


class AmazonMarketplace(models.Model):
    """A marketplace that orders, queues or reports name is archived, never deleted."""

    _inherit = "amazon.marketplace"

    # === CRUD METHODS ===
    @api.ondelete(at_uninstall=False)
    def _unlink_except_referenced(self):
        used = self._amazon_references()
        if used:
            mp, what = next(iter(used.items()))
            raise UserError(_(
                "Marketplace %(marketplace)s cannot be deleted: %(what)s refer to it and would "
                "lose their marketplace. Archive it instead (Action > Archive): its orders and "
                "history stay, and nothing new is imported for it.",
                marketplace=mp.display_name, what=", ".join(what)))

    # === BUSINESS METHODS ===
    def _amazon_references(self):
        """``{marketplace: ["40 Sales Orders", ...]}`` of the marketplaces other records
        point to (stored many2one and many2many fields of every model; records deleted
        with their marketplace, ``ondelete="cascade"``, are its own and do not count)."""
        if not self:
            return {}
        found = {}
        fields_ = self.env["ir.model.fields"].sudo().search([
            ("relation", "=", self._name), ("ttype", "in", ("many2one", "many2many")),
            ("store", "=", True), ("on_delete", "!=", "cascade")])
        for rec in fields_:
            if rec.model not in self.env:
                continue
            Model = self.env[rec.model].sudo().with_context(active_test=False)
            field = Model._fields.get(rec.name)
            if field is None or not field.store or Model._abstract or Model._transient \
                    or not Model._auto:   # reports are SQL views of the orders
                continue
            groups = Model._read_group([(rec.name, "in", self.ids)], [rec.name], ["__count"])
            label = Model._description or Model._name
            for record, count in groups:
                for mp in record & self:
                    found.setdefault(mp, []).append("%s %s" % (count, label))
        return found
