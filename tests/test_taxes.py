"""The books are right: every order's taxes equal Amazon's, on the right accounts.

Products carry the company's default sale tax (15 %, generic chart) and no
marketplace has a fiscal position: Amazon's rates are read from its amounts.
Every order is confirmed, invoiced and posted; order and posted invoice must
both show Amazon's untaxed amount, tax and total to the cent.
"""
from datetime import timedelta
from decimal import Decimal

from odoo import fields
from odoo.tests import tagged

from ..services.normalize import from_orders_api
from ..services.order_builder import OrderBuilder
from ..tools.spapi_emulator.scenario import add_taxed_order
from .common import DE, DE_ADDRESS, UK, UK_ADDRESS, US, TaxedCase

CA_ADDRESS = {"StateOrRegion": "CA", "City": "Los Angeles", "PostalCode": "90001"}
WA_ADDRESS = {"StateOrRegion": "WA", "City": "Seattle", "PostalCode": "98101"}
NY_ADDRESS = {"StateOrRegion": "NY", "City": "New York", "PostalCode": "10001"}
OR_ADDRESS = {"StateOrRegion": "OR", "City": "Portland", "PostalCode": "97201"}


@tagged("post_install", "-at_install")
class TestTaxes(TaxedCase):
    taxed_skus = ("TX-TOY", "TX-BOOK", "TX-CLOTH", "TX-GADGET")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.clearing = env["account.account"].create({
            "name": "Amazon US sales tax clearing", "code": "252900",
            "account_type": "liability_current", "company_id": cls.company.id})
        cls.mp_us.amazon_tax_account_id = cls.clearing

    # ------------------------------------------------------------- helpers
    def amazon_amounts(self, order_id):
        entry = self.scenario.orders[order_id]
        amount = lambda m: Decimal((m or {}).get("Amount") or "0")  # noqa: E731
        tax = Decimal(0)
        for it in entry["items"]:
            gift = it.get("BuyerInfo") or {}
            tax += amount(it["ItemTax"]) + amount(it["ShippingTax"]) + amount(gift.get("GiftWrapTax"))
            tax -= amount(it["PromotionDiscountTax"]) + amount(it["ShippingDiscountTax"])
        total = Decimal(entry["order"]["OrderTotal"]["Amount"])
        return total - tax, tax, total

    def assertBooks(self, so, order_id):
        """Order and posted invoice: Amazon's untaxed, tax and total to the cent;
        an adjustment line of at most a cent."""
        untaxed, tax, total = (float(x) for x in self.amazon_amounts(order_id))
        inv = so.invoice_ids
        self.assertEqual(inv.state, "posted", so.amazon_workflow_message)
        for record in (so, inv):
            got = (record.amount_untaxed, record.amount_tax, record.amount_total)
            for value, expected in zip(got, (untaxed, tax, total)):
                self.assertAlmostEqual(value, expected, places=2, msg="%s %s: Odoo %s != Amazon %s" % (
                    order_id, record._name, got, (untaxed, tax, total)))
        adjust = so.order_line.filtered(lambda l: l.product_id == self.seller.adjustment_product_id)
        for line in adjust:
            self.assertLessEqual(abs(line.price_total), 0.01001, line.name)
            self.assertLessEqual(abs(line.price_subtotal), 0.01001, line.name)
            self.assertLessEqual(abs(line.price_tax), 0.01001, line.name)
        self.assertLessEqual(abs(sum(adjust.mapped("price_tax"))), 0.01001)
        self.assertFalse(so.amazon_tax_problem)

    def tax_lines(self, so):
        return so.invoice_ids.line_ids.filtered("tax_line_id")

    def build_one(self, ref, **kw):
        [res] = self.build([ref], **kw)
        self.assertEqual(res.state, "created", res.message)
        self.assertFalse(res.message)
        return res.sale_order

    # ------------------------------------------------------------ US
    def test_us_states_collected_by_amazon_on_clearing_account(self):
        self.assertTrue(self.mp_us.amazon_collects_tax)
        refs = {
            # California 7.25 %: 3 x 6.99, Amazon rounds per unit (0.51 x 3 = 1.53,
            # where one line at 7.25 % gives 1.52)
            "CA": add_taxed_order(self.scenario, rate="7.25", per_unit=True, address=CA_ADDRESS,
                                  items=[{"sku": "TX-TOY", "qty": 3, "unit": "6.99"}]),
            # Seattle 10.25 %, with shipping taxed too
            "WA": add_taxed_order(self.scenario, rate="10.25", address=WA_ADDRESS,
                                  items=[{"sku": "TX-GADGET", "qty": 1, "unit": "49.99",
                                          "shipping": "5.99"}]),
            # New York City 8.875 %, two items
            "NY": add_taxed_order(self.scenario, rate="8.875", address=NY_ADDRESS, items=[
                {"sku": "TX-BOOK", "qty": 2, "unit": "12.50"},
                {"sku": "TX-CLOTH", "qty": 1, "unit": "19.95", "shipping": "3.99"}]),
            # Oregon: no sales tax
            "OR": add_taxed_order(self.scenario, rate="0", address=OR_ADDRESS,
                                  items=[{"sku": "TX-GADGET", "qty": 1, "unit": "39.99",
                                          "shipping": "4.99"}]),
        }
        results = {r.ref: r for r in self.build(list(refs.values()))}
        for state, ref in refs.items():
            so = results[ref].sale_order
            self.assertEqual(results[ref].state, "created", results[ref].message)
            self.assertBooks(so, ref)
            self.assertNotIn(self.default_tax, so.order_line.tax_id,
                             "%s: the company's own 15 %% is not charged" % state)
            self.assertIn("marketplace facilitator", so.amazon_tax_note or "")
            tax_lines = self.tax_lines(so)
            self.assertEqual(tax_lines.account_id, self.clearing if state != "OR" else
                             tax_lines.account_id.browse(), state)
            self.assertAlmostEqual(-sum(tax_lines.mapped("balance")),
                                   float(self.amazon_amounts(ref)[1]), places=2)
        ca = results[refs["CA"]].sale_order
        self.assertEqual(set(ca.order_line.tax_id.mapped("amount")), {7.25})
        self.assertAlmostEqual(ca.amount_tax, 1.53, places=2)
        self.assertEqual(set(results[refs["NY"]].sale_order.order_line.tax_id.mapped("amount")), {8.875})
        self.assertEqual(set(results[refs["OR"]].sale_order.order_line.tax_id.mapped("amount")), {0})
        self.assertEqual(ca.order_line.tax_id.tax_group_id.name, "Tax collected by Amazon")

    def test_us_one_line_rounding_and_default_clearing_account(self):
        """3 x 6.99 at 7.25 % taxed once per line (1.52); no account picked on the
        marketplace: the connector's own "Tax collected by Amazon", created once."""
        self.mp_us.amazon_tax_account_id = False
        a = add_taxed_order(self.scenario, rate="7.25", address=CA_ADDRESS,
                            items=[{"sku": "TX-TOY", "qty": 3, "unit": "6.99"}])
        b = add_taxed_order(self.scenario, rate="7.25", address=CA_ADDRESS,
                            items=[{"sku": "TX-BOOK", "qty": 1, "unit": "15.00"}])
        so_a = self.build_one(a)
        so_b = self.build_one(b)
        for so, ref in ((so_a, a), (so_b, b)):
            self.assertBooks(so, ref)
        self.assertAlmostEqual(so_a.amount_tax, 1.52, places=2)
        account = self.tax_lines(so_a).account_id
        self.assertEqual(account.name, "Tax collected by Amazon")
        self.assertEqual(account.account_type, "liability_current")
        self.assertEqual(self.tax_lines(so_b).account_id, account, "one account per company")
        self.assertEqual(so_a.order_line.tax_id, so_b.order_line.tax_id, "one tax per rate")

    def test_us_promotion_rounding_cent_on_tax_account(self):
        """The reports carry no promotion tax: Amazon taxed the discounted 18.00 at
        8.25 % (1.49); item and promotion lines at 8.25 % give 1.48. The cent goes
        to the tax account on the adjustment line, not to revenue."""
        ref = self.add_us_order()
        so = self.build_one(ref)
        self.assertBooks(so, ref)
        adjust = so.order_line.filtered(lambda l: l.product_id == self.seller.adjustment_product_id)
        self.assertEqual(len(adjust), 1)
        self.assertAlmostEqual(adjust.price_subtotal, 0.0)
        self.assertAlmostEqual(adjust.price_tax, 0.01)
        self.assertEqual(set(self.tax_lines(so).account_id.ids), {self.clearing.id})

    def test_two_clearing_accounts_same_rate(self):
        """Amazon.com and Amazon.ca each post their 5 % on their own clearing account:
        two taxes, one per account set."""
        env = self.env
        env.ref("base.CAD").active = True
        ca_clearing = env["account.account"].create({
            "name": "Amazon CA tax clearing", "code": "252901",
            "account_type": "liability_current", "company_id": self.company.id})
        mp_ca = env["amazon.marketplace"].create({
            "seller_id": self.seller.id, "warehouse_id": self.warehouse.id,
            "reference_id": env.ref("amazon_fbm_connector.marketplace_ca").id,
            "amazon_tax_account_id": ca_clearing.id})
        self.assertTrue(mp_ca.amazon_collects_tax)
        us = add_taxed_order(self.scenario, rate="5", address={"StateOrRegion": "WI"},
                             items=[{"sku": "TX-TOY", "qty": 1, "unit": "40.00"}])
        ca = add_taxed_order(self.scenario, marketplace_id="A2EUQ1WTGCTBG2", rate="5",
                             address={"StateOrRegion": "AB", "City": "Calgary",
                                      "PostalCode": "T2P 1J9", "CountryCode": "CA"},
                             items=[{"sku": "TX-TOY", "qty": 1, "unit": "40.00"}])
        results = {r.ref: r.sale_order for r in self.build([us, ca])}
        for ref, account in ((us, self.clearing), (ca, ca_clearing)):
            self.assertBooks(results[ref], ref)
            self.assertEqual(self.tax_lines(results[ref]).account_id, account)
        self.assertNotEqual(results[us].order_line.tax_id, results[ca].order_line.tax_id)

    def test_facilitator_off_uses_company_tax_at_amazon_rate(self):
        self.mp_us.amazon_collects_tax = False
        ref = add_taxed_order(self.scenario, rate="7.25", address=CA_ADDRESS,
                              items=[{"sku": "TX-TOY", "qty": 2, "unit": "10.00"}])
        so = self.build_one(ref)
        self.assertBooks(so, ref)
        tax = so.order_line.tax_id
        self.assertEqual((tax.amount, tax.price_include), (7.25, False))
        self.assertEqual(self.tax_lines(so).account_id, self.vat_account)
        self.assertIn("15%", so.amazon_tax_note)

    # ------------------------------------------------------------ DE
    def test_de_19_and_7_percent_on_vat_taxes(self):
        self.assertFalse(self.mp_de.amazon_collects_tax)
        mixed = add_taxed_order(self.scenario, marketplace_id=DE, address=DE_ADDRESS, items=[
            {"sku": "TX-TOY", "qty": 1, "unit": "29.99", "rate": "19", "shipping": "3.99"},
            {"sku": "TX-BOOK", "qty": 2, "unit": "12.99", "rate": "7"}])
        books = add_taxed_order(self.scenario, marketplace_id=DE, address=DE_ADDRESS, rate="7",
                                items=[{"sku": "TX-BOOK", "qty": 3, "unit": "9.99",
                                        "shipping": "2.99"}])
        toys = add_taxed_order(self.scenario, marketplace_id=DE, address=DE_ADDRESS, rate="19",
                               items=[{"sku": "TX-TOY", "qty": 3, "unit": "16.66",
                                       "gift_wrap": "2.99"}])
        results = {r.ref: r.sale_order for r in self.build([mixed, books])}
        results.update({r.ref: r.sale_order for r in self.build([toys])})
        for ref, so in results.items():
            self.assertBooks(so, ref)
            self.assertEqual(self.tax_lines(so).account_id, self.vat_account)
            self.assertTrue(all(t.price_include for t in so.order_line.tax_id))
            self.assertNotIn(self.default_tax, so.order_line.tax_id)
        item = {i["SellerSKU"]: i for i in self.scenario.orders[mixed]["items"]}
        toy_tax = float(item["TX-TOY"]["ItemTax"]["Amount"]) + float(item["TX-TOY"]["ShippingTax"]["Amount"])
        # EUR invoice in a USD company: compare in the invoice's currency
        by_rate_cur = {}
        for line in self.tax_lines(results[mixed]):
            by_rate_cur[line.tax_line_id.amount] = by_rate_cur.get(line.tax_line_id.amount, 0) \
                - line.amount_currency
        self.assertEqual(set(by_rate_cur), {19.0, 7.0})
        self.assertAlmostEqual(by_rate_cur[19.0], toy_tax, places=2)
        self.assertAlmostEqual(by_rate_cur[7.0], float(item["TX-BOOK"]["ItemTax"]["Amount"]), places=2)
        # one tax per rate, company and account set, reused across batches
        taxes = self.env["account.tax"].search([
            ("company_id", "=", self.company.id), ("price_include", "=", True),
            ("amount", "in", (19, 7)), ("type_tax_use", "=", "sale")])
        self.assertEqual(sorted(taxes.mapped("amount")), [7.0, 19.0])
        # the invoice's tax subtotals say 19 % and 7 %, not the default tax's "Tax 15%"
        self.assertEqual(sorted(taxes.tax_group_id.mapped("name")), ["Tax 19%", "Tax 7%"])
        self.assertIn("19%", results[mixed].amazon_tax_note)

    # ------------------------------------------------------------ UK
    def test_uk_20_and_0_percent(self):
        ref = add_taxed_order(self.scenario, marketplace_id=UK, address=UK_ADDRESS, items=[
            {"sku": "TX-GADGET", "qty": 1, "unit": "24.99", "rate": "20", "shipping": "2.99"},
            {"sku": "TX-CLOTH", "qty": 2, "unit": "7.99", "rate": "0"}])
        so = self.build_one(ref)
        self.assertBooks(so, ref)
        rates = {line.product_id.default_code: line.tax_id.amount for line in so.order_line
                 if line.product_id.default_code in ("TX-GADGET", "TX-CLOTH")}
        self.assertEqual(rates, {"TX-GADGET": 20.0, "TX-CLOTH": 0.0})
        taxed = self.tax_lines(so).filtered("balance")
        # 24.99 incl. 20 %: Amazon 4.165 -> 4.17, Odoo's float arithmetic 4.1649.. -> 4.16;
        # the cent is on the adjustment line's rounding tax, on the same VAT account
        self.assertEqual(taxed.tax_line_id.filtered(lambda t: t.amount_type == "percent").mapped("amount"),
                         [20.0])
        self.assertEqual(taxed.account_id, self.vat_account)

    # ------------------------------------------------------------ business
    def test_business_order_vat_and_po_number(self):
        ref = add_taxed_order(self.scenario, marketplace_id=DE, address=DE_ADDRESS, rate="19",
                              is_business=True, buyer_company="Muster GmbH", buyer_name="Erika Muster",
                              purchase_order_number="PO-4711",
                              items=[{"sku": "TX-GADGET", "qty": 10, "unit": "11.90"}])
        entry = self.scenario.orders[ref]
        order = from_orders_api(entry["order"], entry["items"])
        order.buyer_tax_ids = ["DE123456789"]      # as the Orders API v2026 gives it
        [res] = OrderBuilder(self.seller).build([order])
        self.assertEqual(res.state, "created", res.message)
        so = res.sale_order
        from ..services.auto_workflow import AutoWorkflow
        AutoWorkflow(self.seller.workflow_id).run(so)
        self.assertBooks(so, ref)
        self.assertEqual(so.client_order_ref, "PO-4711")
        self.assertEqual(so.amazon_order_ref, ref)
        company = so.partner_id.commercial_partner_id
        self.assertTrue(company.is_company)
        self.assertEqual(company.name, "Muster GmbH")
        self.assertEqual(company.vat, "DE123456789")
        self.assertEqual(so.invoice_ids.partner_id.commercial_partner_id.vat, "DE123456789")
        # the same business buys again with another buyer e-mail: same company
        again = add_taxed_order(self.scenario, marketplace_id=DE, address=DE_ADDRESS, rate="19",
                                is_business=True, buyer_company="Muster GmbH",
                                buyer_email="einkauf@muster.example",
                                items=[{"sku": "TX-GADGET", "qty": 1, "unit": "11.90"}])
        order = from_orders_api(self.scenario.orders[again]["order"], self.scenario.orders[again]["items"])
        order.buyer_tax_ids = ["DE123456789"]
        [res] = OrderBuilder(self.seller).build([order])
        self.assertEqual(res.sale_order.partner_id.commercial_partner_id, company)

    def test_consumer_buyer_becomes_contact_of_business(self):
        """A buyer known as a consumer orders for their company: the company is
        created with its VAT number and the buyer becomes its contact."""
        email = "buyer@marketplace.amazon.com"
        first = add_taxed_order(self.scenario, marketplace_id=DE, address=DE_ADDRESS, rate="19",
                                buyer_email=email, items=[{"sku": "TX-TOY", "qty": 1, "unit": "10.00"}])
        self.build_one(first)
        second = add_taxed_order(self.scenario, marketplace_id=DE, address=DE_ADDRESS, rate="19",
                                 buyer_email=email, is_business=True, buyer_company="Beispiel AG",
                                 items=[{"sku": "TX-TOY", "qty": 1, "unit": "10.00"}])
        order = from_orders_api(self.scenario.orders[second]["order"], self.scenario.orders[second]["items"])
        order.buyer_tax_ids = ["DE987654321"]
        [res] = OrderBuilder(self.seller).build([order])
        partner = res.sale_order.partner_id
        self.assertEqual(partner.parent_id.name, "Beispiel AG")
        self.assertEqual(partner.commercial_partner_id.vat, "DE987654321")

    # ------------------------------------------------------------ problems
    def test_unexplainable_tax_is_reported_not_buried(self):
        """Amazon's tax on a zero amount matches no rate: the order keeps Amazon's
        total, and says what to check (on the order and in the build result)."""
        ref = self.scenario.add_order(marketplace_id=US, address=OR_ADDRESS, items=[
            {"sku": "TX-TOY", "qty": 1, "price": "10.00", "tax": "0.00", "shipping": "0.00",
             "shipping_tax": "0.50"}])
        [res] = self.build([ref])
        self.assertEqual(res.state, "created")
        self.assertIn("Amazon's (0.50)", res.message)
        so = res.sale_order
        self.assertAlmostEqual(so.amount_total, 10.50, places=2)
        self.assertIn("differs from Amazon's", so.amazon_tax_problem)
        # The workflow posts invoices, but not one whose taxes differ from Amazon's.
        self.assertTrue(self.seller.workflow_id.validate_invoice)
        self.assertEqual(so.invoice_ids.mapped("state"), ["draft"])
        self.assertIn("Invoice left in draft", so.amazon_workflow_message)

    def test_product_tax_with_amazon_rate_is_used(self):
        """Where the product's tax already has Amazon's rate, it is used as is
        (its price-included twin where prices include tax), with no note."""
        ref = add_taxed_order(self.scenario, marketplace_id=DE, address=DE_ADDRESS, rate="19",
                              items=[{"sku": "SKU-EU", "qty": 1, "unit": "59.50"}])
        so = self.build_one(ref)
        self.assertBooks(so, ref)
        tax = so.order_line.filtered(lambda l: l.product_id.default_code == "SKU-EU").tax_id
        self.assertEqual((tax.amount, tax.price_include), (19.0, True))
        self.assertIn(self.tax_vat.name, tax.name)

    def test_marketplace_fiscal_position_maps_to_amazon_rate(self):
        """A fiscal position on the marketplace maps the product's 15 % to the
        seller's own 19 % VAT: that tax is used as is (no note), on its account."""
        env = self.env
        de_vat_account = env["account.account"].create({
            "name": "VAT DE 19%", "code": "251900", "account_type": "liability_current",
            "company_id": self.company.id})
        de_vat = env["account.tax"].create({
            "name": "DE VAT 19% incl.", "amount": 19, "amount_type": "percent",
            "price_include": True, "type_tax_use": "sale", "company_id": self.company.id,
            "invoice_repartition_line_ids": [
                (0, 0, {"document_type": "invoice", "repartition_type": "base"}),
                (0, 0, {"document_type": "invoice", "repartition_type": "tax",
                        "account_id": de_vat_account.id})],
            "refund_repartition_line_ids": [
                (0, 0, {"document_type": "refund", "repartition_type": "base"}),
                (0, 0, {"document_type": "refund", "repartition_type": "tax",
                        "account_id": de_vat_account.id})]})
        self.mp_de.fiscal_position_id = env["account.fiscal.position"].create({
            "name": "Amazon.de", "company_id": self.company.id,
            "tax_ids": [(0, 0, {"tax_src_id": self.default_tax.id, "tax_dest_id": de_vat.id})]})
        ref = add_taxed_order(self.scenario, marketplace_id=DE, address=DE_ADDRESS, rate="19",
                              items=[{"sku": "TX-TOY", "qty": 2, "unit": "14.99",
                                      "shipping": "3.99"}])
        so = self.build_one(ref)
        self.assertBooks(so, ref)
        self.assertEqual(so.fiscal_position_id, self.mp_de.fiscal_position_id)
        self.assertEqual(so.order_line.filtered(lambda l: l.product_id.default_code == "TX-TOY").tax_id,
                         de_vat)
        self.assertEqual(self.tax_lines(so).filtered("balance").account_id, de_vat_account)
        self.assertFalse(so.amazon_tax_note)

    def test_marketplace_tax_defaults(self):
        self.assertTrue(self.mp_us.amazon_collects_tax)
        self.assertFalse(self.mp_de.amazon_collects_tax)
        self.assertFalse(self.mp_uk.amazon_collects_tax)
        au = self.env["amazon.marketplace"].create({
            "seller_id": self.seller.id,
            "reference_id": self.env.ref("amazon_fbm_connector.marketplace_au").id})
        self.assertTrue(au.amazon_collects_tax)

    def test_problem_reaches_the_queue_line(self):
        """Through the shipped flow: the tax problem is the queue line's message;
        a clean order's line has none."""
        self.scenario.orders.clear()
        bad = self.scenario.add_order(marketplace_id=US, status="Shipped", address=OR_ADDRESS, items=[
            {"sku": "TX-TOY", "qty": 1, "price": "10.00", "tax": "0.00", "shipping": "0.00",
             "shipping_tax": "0.50"}])
        good = add_taxed_order(self.scenario, rate="7.25", status="Shipped", address=CA_ADDRESS,
                               items=[{"sku": "TX-TOY", "qty": 3, "unit": "6.99"}])
        self.env["amazon.operation.wizard"].create({
            "seller_id": self.seller.id, "operation": "fbm_import_shipped",
            "marketplace_ids": [(6, 0, self.mp_us.ids)],
            "date_from": fields.Datetime.now() - timedelta(days=10),
            "date_to": fields.Datetime.now()}).action_execute()
        self.run_listings()
        self.env["amazon.order.queue"]._cron_process_queues()
        lines = {line.amazon_order_ref: line for line in self.env["amazon.order.queue.line"].search(
            [("amazon_order_ref", "in", [bad, good])])}
        self.assertEqual(lines[bad].state, "done")
        self.assertIn("differs from Amazon's", lines[bad].message)
        self.assertEqual(lines[good].state, "done")
        self.assertFalse(lines[good].message and "differs" in lines[good].message)
        self.assertBooks(lines[good].sale_order_id, good)
