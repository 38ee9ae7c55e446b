"""VAT is never silently zero, and Amazon's per-amount rounding is booked as tax.

Where prices include VAT (DE, UK), an order for which Amazon states no tax
(Orders API 2026-01-01: no TAX breakdown; v0: no ItemTax; All Orders report:
an empty item-tax cell) is booked with the seller's taxes (the product's tax
through the marketplace's fiscal position), and the order's Amazon Taxes tab
says so; an explicit zero stays zero. Each order goes through the emulator
(getOrder / getOrderItems / the All Orders report over HTTP), the builder and
the auto workflow (confirm, invoice, post).
"""
from datetime import timedelta
from decimal import Decimal

from odoo import fields
from odoo.tests import tagged

from ..services.auto_workflow import AutoWorkflow
from ..services.normalize import order_from_payload
from ..services.order_builder import OrderBuilder
from ..tools.spapi_emulator.scenario import add_taxed_order
from .common import DE, DE_ADDRESS, UK, UK_ADDRESS, TaxedCase


class BooksCase(TaxedCase):
    taxed_skus = ("VA-GADGET", "VA-CLOTH", "VA-TOY")

    def build_orders(self, orders):
        results = OrderBuilder(self.seller).build(orders)
        for res in results:
            self.assertEqual(res.state, "created", res.message)
        created = self.env["sale.order"].browse([r.sale_order.id for r in results])
        AutoWorkflow(self.seller.workflow_id).run(created)
        return {r.ref: r.sale_order for r in results}

    def v0_order(self, ref, version="v0"):
        """The order as the seller's client reads it from the emulator."""
        adapter = self.seller._get_client().orders(version)
        payload = adapter.get_order(ref)
        return order_from_payload(payload, adapter.get_order_items(ref) if version == "v0" else None)

    def assertPosted(self, so, untaxed, tax, total):
        """Order and posted invoice: these amounts to the cent, no problem."""
        self.assertFalse(so.amazon_tax_problem)
        inv = so.invoice_ids
        self.assertEqual(inv.state, "posted", so.amazon_workflow_message)
        for record in (so, inv):
            got = (record.amount_untaxed, record.amount_tax, record.amount_total)
            for value, expected in zip(got, (untaxed, tax, total)):
                self.assertAlmostEqual(value, float(expected), places=2, msg="%s %s: %s != %s" % (
                    so.amazon_order_ref, record._name, got, (untaxed, tax, total)))


@tagged("post_install", "-at_install")
class TestVatAbsent(BooksCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env

        def vat(name, amount, code):
            account = env["account.account"].create({
                "name": name, "code": code, "account_type": "liability_current",
                "company_id": cls.company.id})
            tax = env["account.tax"].create({
                "name": name, "amount": amount, "amount_type": "percent", "price_include": True,
                "type_tax_use": "sale", "company_id": cls.company.id,
                "invoice_repartition_line_ids": [
                    (0, 0, {"document_type": "invoice", "repartition_type": "base"}),
                    (0, 0, {"document_type": "invoice", "repartition_type": "tax", "account_id": account.id})],
                "refund_repartition_line_ids": [
                    (0, 0, {"document_type": "refund", "repartition_type": "base"}),
                    (0, 0, {"document_type": "refund", "repartition_type": "tax", "account_id": account.id})]})
            return tax, account
        # The seller's configuration: Amazon.co.uk maps the products' 15 % to UK VAT 20 %.
        cls.uk_vat, cls.uk_vat_account = vat("UK VAT 20% incl.", 20, "251920")
        cls.mp_uk.fiscal_position_id = env["account.fiscal.position"].create({
            "name": "Amazon.co.uk", "company_id": cls.company.id,
            "tax_ids": [(0, 0, {"tax_src_id": cls.default_tax.id, "tax_dest_id": cls.uk_vat.id})]})

    def assertSellerVat(self, so, total):
        """Booked with the seller's UK VAT (20 % of the gross, Odoo's rounding), said so."""
        total = Decimal(total)
        self.assertEqual(so.order_line.filtered(lambda l: l.product_id.default_code == "VA-GADGET").tax_id,
                         self.uk_vat)
        self.assertNotIn(0.0, so.order_line.tax_id.mapped("amount"), "no 0 % where Amazon stated nothing")
        tax = Decimal(str(so.amount_tax)).quantize(Decimal("0.01"))
        self.assertGreater(tax, 0)
        self.assertPosted(so, total - tax, tax, total)
        self.assertIn("Amazon stated no tax", so.amazon_tax_note or "")
        self.assertIn(self.uk_vat.name, so.amazon_tax_note)
        tax_lines = so.invoice_ids.line_ids.filtered("tax_line_id")
        self.assertEqual(tax_lines.account_id, self.uk_vat_account)

    def test_orders_api_2026_without_tax_breakdown(self):
        """Orders API 2026-01-01: no TAX breakdown -> the seller's 20 %; the same
        order with Amazon's explicit 0 % (a TAX breakdown of zero) stays at 0 %."""
        items = [{"sku": "VA-GADGET", "qty": 2, "unit": "24.99", "rate": "20", "shipping": "2.99"}]
        absent = add_taxed_order(self.scenario, marketplace_id=UK, address=UK_ADDRESS, items=items,
                                 tax_data=False)
        zero = add_taxed_order(self.scenario, marketplace_id=UK, address=UK_ADDRESS, rate="0",
                               items=[{"sku": "VA-CLOTH", "qty": 2, "unit": "7.99"}])
        orders = [self.v0_order(ref, "2026-01-01") for ref in (absent, zero)]
        results = self.build_orders(orders)
        self.assertSellerVat(results[absent], "52.97")
        so = results[zero]
        self.assertPosted(so, "15.98", "0", "15.98")
        self.assertEqual(so.order_line.tax_id.mapped("amount"), [0.0], "Amazon's explicit zero stays zero")
        self.assertNotIn("stated no tax", so.amazon_tax_note or "")
        self.assertEqual([orders[0].items[0].tax_stated, orders[1].items[0].tax_stated], [False, True])

    def test_orders_api_v0_without_item_tax(self):
        """Orders API v0: ItemTax absent is not "0.00"."""
        ref = add_taxed_order(self.scenario, marketplace_id=UK, address=UK_ADDRESS, tax_data=False,
                              items=[{"sku": "VA-GADGET", "qty": 1, "unit": "24.99", "rate": "20",
                                      "shipping": "2.99"}])
        self.assertNotIn("ItemTax", self.scenario.orders[ref]["items"][0])
        so = self.build_orders([self.v0_order(ref)])[ref]
        self.assertSellerVat(so, "27.98")
        # 24.99 and 2.99 at 20 % included: 4.16 (Odoo) + 0.50
        self.assertAlmostEqual(so.amount_tax, 4.66, places=2)

    def test_all_orders_report_with_empty_item_tax(self):
        """The All Orders report (the price report of v0 imports) with empty tax
        cells: the stored prices keep "not stated", and the order gets the seller's VAT."""
        ref = add_taxed_order(self.scenario, marketplace_id=UK, address=UK_ADDRESS, tax_data=False,
                              items=[{"sku": "VA-GADGET", "qty": 1, "unit": "24.99", "rate": "20"},
                                     {"sku": "VA-TOY", "qty": 3, "unit": "4.00", "rate": "20",
                                      "shipping": "1.99"}])
        now = fields.Datetime.now()
        report = self.env["amazon.price.report"]._request(self.seller, [UK], now - timedelta(days=2), now)
        for _poll in range(4):
            if report._poll():
                break
        self.assertEqual(report.state, "done", report.message)
        client = self.seller._get_client()
        header = client.orders("v0").get_order(ref)
        order = report._price_book().price(order_from_payload(header), header, fetch=False)
        self.assertTrue(order.priced)
        so = self.build_orders([order])[ref]
        self.assertSellerVat(so, "38.98")
        self.assertEqual(self.emulator.calls["getOrderItems"], 0)
        self.assertEqual([item.tax_stated for item in order.items], [False, False])

    def test_de_product_tax_twinned_price_included(self):
        """Amazon.de without a fiscal position: the product's own 19 % (price
        excluded) is used as its price-included twin; the note names it."""
        ref = add_taxed_order(self.scenario, marketplace_id=DE, address=DE_ADDRESS, rate="19",
                              tax_data=False, items=[{"sku": "SKU-EU", "qty": 1, "unit": "59.50"}])
        so = self.build_orders([self.v0_order(ref)])[ref]
        tax = so.order_line.filtered(lambda l: l.product_id.default_code == "SKU-EU").tax_id
        self.assertEqual((tax.amount, tax.price_include), (19.0, True))
        self.assertPosted(so, "50.00", "9.50", "59.50")
        self.assertIn("Amazon stated no tax", so.amazon_tax_note)

    def test_no_tax_anywhere_is_held_for_a_person(self):
        """Amazon states no tax and the product has none either: not a silent zero,
        the invoice is held in draft with what to set."""
        self.products["VA-CLOTH"].taxes_id = False
        ref = add_taxed_order(self.scenario, marketplace_id=DE, address=DE_ADDRESS, rate="19",
                              tax_data=False, items=[{"sku": "VA-CLOTH", "qty": 1, "unit": "10.00"}])
        so = self.build_orders([self.v0_order(ref)])[ref]
        self.assertIn("Amazon stated no tax and the product has no sales tax", so.amazon_tax_problem or "")
        self.assertEqual(so.invoice_ids.mapped("state"), ["draft"])


@tagged("post_install", "-at_install")
class TestLineRounding(BooksCase):

    def test_uk_three_units_and_shipping_two_cents(self):
        """UK, 3 x 9.99 + 3.99 shipping at 20 % included: Amazon rounds the VAT of
        each amount half up (29.97: 4.995 -> 5.00; 3.99: 0.665 -> 0.67), Odoo's
        engine gets 4.99 and 0.66. Two taxed lines allow two cents: the difference
        is booked as tax on the VAT account, the invoice posted, totals and tax
        Amazon's to the cent."""
        ref = self.scenario.add_order(marketplace_id=UK, address=UK_ADDRESS, items=[
            {"sku": "VA-TOY", "qty": 3, "price": "29.97", "tax": "5.00", "shipping": "3.99",
             "shipping_tax": "0.67"}])
        so = self.build_orders([self.v0_order(ref)])[ref]
        self.assertPosted(so, "28.29", "5.67", "33.96")
        self.assertRoundingIsTax(so)

    def test_uk_rounded_per_unit_four_lines(self):
        """The same order with Amazon rounding each unit's VAT (3 x 1.67): one
        line per unit, four taxed lines, four cents of rounding, still tax."""
        ref = self.scenario.add_order(marketplace_id=UK, address=UK_ADDRESS, items=[
            {"sku": "VA-TOY", "qty": 3, "price": "29.97", "tax": "5.01", "shipping": "3.99",
             "shipping_tax": "0.67"}])
        so = self.build_orders([self.v0_order(ref)])[ref]
        self.assertPosted(so, "28.28", "5.68", "33.96")
        self.assertRoundingIsTax(so)

    def assertRoundingIsTax(self, so):
        adjust = so.order_line.filtered(lambda l: l.product_id == self.seller.adjustment_product_id)
        self.assertTrue(adjust, "the rounding is on the adjustment line")
        self.assertAlmostEqual(sum(adjust.mapped("price_total")), 0.0, places=2)
        tax_lines = so.invoice_ids.line_ids.filtered("tax_line_id")
        self.assertEqual(tax_lines.account_id, self.vat_account, "the cents are tax, not revenue")
