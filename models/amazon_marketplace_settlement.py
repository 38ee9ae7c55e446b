from odoo import _, fields, models
from odoo.tools.misc import formatLang


class AmazonMarketplace(models.Model):
    """The dashboard card's settlements: the seller's last payout, what is left to check."""

    _inherit = "amazon.marketplace"

    # === FIELDS ===
    dashboard_last_payout = fields.Char("Last Payout", compute="_compute_dashboard_settlements")
    dashboard_settlement_check_count = fields.Integer(
        "Settlements to Check", compute="_compute_dashboard_settlements")

    # === COMPUTE METHODS ===
    def _compute_dashboard_settlements(self):
        Settlement = self.env["amazon.settlement"]
        sellers = self.seller_id
        to_check = dict(Settlement._read_group(
            [("seller_id", "in", sellers.ids), ("state", "=", "to_check")], ["seller_id"],
            ["__count"]))
        last = {}
        for settlement in Settlement.search([("seller_id", "in", sellers.ids),
                                             ("settlement_ref", "!=", False)],
                                            order="deposit_date desc, id desc"):
            last.setdefault(settlement.seller_id.id, settlement)
        for mp in self:
            settlement = last.get(mp.seller_id.id)
            mp.dashboard_settlement_check_count = to_check.get(mp.seller_id, 0)
            mp.dashboard_last_payout = _(
                "%(amount)s on %(date)s", amount=formatLang(
                    self.env, settlement.total_amount, currency_obj=settlement.currency_id),
                date=fields.Date.to_string(settlement.deposit_date.date())
                if settlement.deposit_date else "-") if settlement else _("none yet")

    # === ACTION METHODS ===
    def action_dashboard_settlements(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "amazon_fbm_connector.action_amazon_settlement")
        action["domain"] = [("seller_id", "=", self.seller_id.id)]
        if self.dashboard_settlement_check_count:
            action["context"] = {"search_default_to_check": 1}
        return action
