from datetime import timedelta

from odoo import _, api, fields, models

from ..services import runner as runner_mod

OPEN_PICKING = ("draft", "waiting", "confirmed", "assigned")


class AmazonSeller(models.Model):
    """Buyer data retention: Amazon's Data Protection Policy limits how long a
    seller keeps buyers' personal data after the order is delivered."""

    _inherit = "amazon.seller"

    buyer_data_retention = fields.Boolean(
        "Anonymise Buyer Data", default=True,
        help="Amazon's Data Protection Policy: once an order is delivered and the retention "
             "period is over, the buyer's name, address, phone and e-mail are removed from "
             "the contact (the country stays, for the invoices' taxes). Buyers who have "
             "another order still open, a non-Amazon order, or are companies are kept.")
    buyer_data_retention_days = fields.Integer(
        "Keep Buyer Data (days)", default=30,
        help="Days after the last delivery of a buyer's orders before the buyer's personal "
             "data is anonymised.")

    @api.model
    def _cron_anonymise_buyers(self, limit=1000):
        runner = runner_mod.Runner(self.env, cron="amazon_fbm_connector.ir_cron_amazon_buyer_retention")
        for seller in self.search([("buyer_data_retention", "=", True)]):
            if runner.out_of_time():
                runner.trigger()
                break
            runner.run_batch(seller._anonymise_buyers, limit=limit)

    def _anonymise_buyers(self, limit=1000):
        """Anonymise the seller's buyers no longer needed; returns those partners."""
        self.ensure_one()
        if not self.buyer_data_retention:
            return self.env["res.partner"]
        cutoff = fields.Datetime.now() - timedelta(days=max(self.buyer_data_retention_days, 0))
        Partner = self.env["res.partner"].with_context(active_test=False)
        SaleOrder = self.env["sale.order"].with_context(active_test=False)
        delivered = self.env["stock.picking"].search([
            ("sale_id.amazon_seller_id", "=", self.id), ("state", "=", "done"),
            ("date_done", "<", cutoff), ("partner_id.amazon_anonymised", "=", False)],
            limit=limit, order="date_done")
        buyers = (delivered.sale_id.partner_id | delivered.sale_id.partner_shipping_id).commercial_partner_id
        buyers = buyers.filtered(lambda p: not p.is_company and not p.amazon_anonymised)
        if not buyers:
            return Partner
        family = Partner.search([("id", "child_of", buyers.ids)])
        orders = SaleOrder.search(["|", ("partner_id", "in", family.ids),
                                   ("partner_shipping_id", "in", family.ids)])
        keep = Partner
        for order in orders:
            buyer = order.partner_id.commercial_partner_id
            if order.state == "cancel":
                continue
            still_needed = (
                order.amazon_seller_id != self or not order.amazon_seller_id.buyer_data_retention
                or order.state in ("draft", "sent")
                or any(p.state in OPEN_PICKING for p in order.picking_ids)
                or not order.picking_ids
                or any(p.date_done and p.date_done >= cutoff for p in order.picking_ids))
            if still_needed:
                keep |= buyer | order.partner_shipping_id.commercial_partner_id
        buyers -= keep
        if not buyers:
            return Partner
        family = Partner.search([("id", "child_of", buyers.ids)])
        family.write({
            "name": _("Anonymised Amazon buyer"), "email": False, "phone": False, "mobile": False,
            "street": False, "street2": False, "city": False, "zip": False, "comment": False,
            "amazon_anonymised": True, "amazon_anonymised_date": fields.Datetime.now()})
        return family
