from odoo import _, models
from odoo.exceptions import UserError

from ..services.const import STOCK_FEED_THRESHOLD


class AmazonSeller(models.Model):
    """The seller's stock export buttons (Amazon > FBM > Stock on Amazon)."""

    _inherit = "amazon.seller"

    # === ACTION METHODS ===
    def action_export_stock(self):
        """Send what changed now: wakes the stock export (never runs it in the request)."""
        marketplaces = self._stock_marketplaces()
        self.env["amazon.stock.offer"]._trigger_export()
        return self.env["amazon.stock.offer"]._notify(_(
            "The stock export sends the quantities that changed on %s in the background, "
            "within a minute: see Amazon > FBM > Stock on Amazon.",
            ", ".join(marketplaces.mapped("name"))))

    def action_resend_all_stock(self):
        """Resend every offer's quantity, changed or not (after a fix on Amazon's side)."""
        marketplaces = self._stock_marketplaces()
        offers = self.env["amazon.stock.offer"].sudo().search(
            [("marketplace_id", "in", marketplaces.ids)])
        offers.write({"to_send": True, "force_send": True, "transient_attempts": 0})
        self.env["amazon.stock.offer"]._trigger_export()
        return self.env["amazon.stock.offer"]._notify(_(
            "%(count)s offer(s) will be sent to Amazon again by the stock export in the "
            "background (more than %(threshold)s at once go as one feed).",
            count=len(offers), threshold=STOCK_FEED_THRESHOLD))

    # === BUSINESS METHODS ===
    def _stock_marketplaces(self):
        marketplaces = self.marketplace_ids.filtered("export_stock")
        if not marketplaces:
            raise UserError(_("No marketplace of %s exports its stock: tick Export Stock on the "
                              "marketplaces (Amazon > Configuration > Marketplaces) first.",
                              ", ".join(self.mapped("name"))))
        return marketplaces
