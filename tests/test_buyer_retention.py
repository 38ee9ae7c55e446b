"""Buyer data retention (Amazon's Data Protection Policy): buyers no longer
needed are anonymised after the seller's retention period; what invoices need
stays."""
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import AmazonCase


@tagged("post_install", "-at_install")
class TestBuyerRetention(AmazonCase):

    def setUp(self):
        super().setUp()
        self.scenario.orders.clear()
        self.seller.workflow_id = self.env["amazon.sale.workflow"].create({
            "name": "Confirm + invoice", "confirm_order": True, "create_invoice": True,
            "validate_invoice": True})

    def shipped(self, email, name, **kw):
        return self.add_us_order(status="Shipped", buyer_email=email, buyer_name=name,
                                 address={"AddressLine1": "1 %s Road" % name, "Phone": "+1 555 0199"}, **kw)

    def import_shipped(self):
        self.env["amazon.order.queue"]._import_shipped(
            self.seller, self.mp_us, fields.Datetime.now() - timedelta(days=10), fields.Datetime.now())
        for _run in range(3):
            self.env["amazon.order.queue"]._cron_process_queues()

    def delivered_days_ago(self, ref, days):
        order = self.orders_of([ref])
        self.assertTrue(order.picking_ids and all(p.state == "done" for p in order.picking_ids))
        order.picking_ids.write({"date_done": fields.Datetime.now() - timedelta(days=days)})
        return order

    def test_retention(self):
        old = self.shipped("old@marketplace.amazon.com", "Olga Old")
        recent = self.shipped("recent@marketplace.amazon.com", "Rita Recent")
        busy = self.shipped("busy@marketplace.amazon.com", "Bert Busy")
        firm = self.shipped("firm@marketplace.amazon.com", "Fiona Firm", is_business=True,
                            buyer_company="Firm GmbH")
        self.import_shipped()
        old_order = self.delivered_days_ago(old, 40)
        self.delivered_days_ago(recent, 10)
        self.delivered_days_ago(busy, 40)
        self.delivered_days_ago(firm, 40)
        # Bert has another order, not shipped yet: his data is still needed
        open_ref = self.add_us_order(buyer_email="busy@marketplace.amazon.com", buyer_name="Bert Busy")
        self.build([open_ref])
        self.assertTrue(self.orders_of([open_ref]).picking_ids.filtered(lambda p: p.state != "done"))
        invoice = old_order.invoice_ids
        self.assertEqual(invoice.state, "posted")
        total = invoice.amount_total
        buyer = old_order.partner_id
        country = buyer.country_id

        self.seller.buyer_data_retention = False          # the off switch
        self.env["amazon.seller"]._cron_anonymise_buyers()
        self.assertEqual(buyer.name, "Olga Old")

        self.seller.buyer_data_retention = True
        self.assertEqual(self.seller.buyer_data_retention_days, 30, "default: 30 days after delivery")
        self.env["amazon.seller"]._cron_anonymise_buyers()
        for partner in old_order.partner_id | old_order.partner_shipping_id:
            self.assertTrue(partner.amazon_anonymised)
            self.assertNotIn("Olga", partner.name)
            self.assertFalse(partner.email or partner.phone or partner.mobile or partner.street or
                             partner.city or partner.zip)
            self.assertEqual(partner.country_id, country, "the country stays for the invoice's taxes")
        self.assertEqual(invoice.partner_id, buyer, "the invoice keeps its partner")
        self.assertEqual(invoice.amount_total, total)
        self.assertEqual(old_order.amazon_order_ref, old, "the order stays traceable to Amazon")
        for ref, name in ((recent, "Rita Recent"), (busy, "Bert Busy")):
            self.assertEqual(self.orders_of([ref]).partner_id.name, name)
            self.assertFalse(self.orders_of([ref]).partner_id.amazon_anonymised)
        firm_partner = self.orders_of([firm]).partner_id.commercial_partner_id
        self.assertTrue(firm_partner.is_company)
        self.assertEqual(firm_partner.name, "Firm GmbH", "a business buyer is the invoice's company")
        # idempotent
        self.assertFalse(self.seller._anonymise_buyers())
