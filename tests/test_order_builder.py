from odoo.tests import tagged
from odoo.tools import SQL

from ..services.normalize import from_orders_api
from ..services.order_builder import OrderBuilder
from .common import DE, UK, AmazonCase


@tagged("post_install", "-at_install")
class TestOrderBuilder(AmazonCase):

    def test_us_order_item_tax_shipping_promotion(self):
        ref = self.add_us_order()
        [res] = self.build([ref])
        self.assertEqual(res.state, "created", res.message)
        so = res.sale_order
        self.assertTotal(so, ref)                        # 20 + 1.49 + 4.99 + .41 - 2 = 24.89
        self.assertAlmostEqual(so.amount_total, 24.89, places=2)
        self.assertEqual(so.name, "AMZ-" + ref)
        self.assertEqual(so.amazon_order_ref, ref)
        self.assertEqual(so.amazon_marketplace_id, self.mp_us)
        self.assertEqual(so.amazon_fulfillment_channel, "MFN")
        self.assertEqual(so.state, "sale")
        self.assertEqual(so.warehouse_id, self.warehouse)
        self.assertEqual(so.tag_ids, self.tag)
        self.assertEqual(so.currency_id.name, "USD")
        product_line = so.order_line.filtered(lambda l: l.product_id == self.products["SKU-A"])
        self.assertEqual(product_line.product_uom_qty, 2)
        self.assertAlmostEqual(product_line.price_unit, 10.0)
        # US: Amazon collects the 8.25 % (marketplace facilitator), not the product's tax
        self.assertEqual(product_line.tax_id.amount, 8.25)
        self.assertIn("collected by Amazon", product_line.tax_id.name)
        ship = so.order_line.filtered(lambda l: l.product_id == self.seller.shipping_product_id)
        self.assertAlmostEqual(ship.price_subtotal, 4.99)
        promo = so.order_line.filtered(lambda l: l.product_id == self.seller.discount_product_id)
        self.assertAlmostEqual(promo.price_subtotal, -2.0)
        self.assertAlmostEqual(so.amount_tax, 1.49 + 0.41, places=2)
        for line in so.order_line:
            self.assertEqual(line.analytic_distribution, {str(self.analytic.id): 100})
        self.assertEqual(so.date_order.date(), (self.now.date() if self.now.hour else self.now.date())
                         - __import__("datetime").timedelta(days=1))

    def test_us_tax_at_amazon_rate_no_adjustment(self):
        # Amazon charged 1.70 of tax on 20.00 (8.5%); the product's 8.25% would give
        # 1.65. The line carries Amazon's 8.5%: no adjustment line, no tax in revenue.
        ref = self.add_us_order(items=[{"sku": "SKU-B", "qty": 1, "price": "20.00", "tax": "1.70"}])
        [res] = self.build([ref])
        so = res.sale_order
        self.assertTotal(so, ref)
        self.assertAlmostEqual(so.amount_tax, 1.70, places=2)
        self.assertEqual(so.order_line.tax_id.amount, 8.5)
        self.assertFalse(so.order_line.filtered(lambda l: l.product_id == self.seller.adjustment_product_id))

    def test_de_vat_included_gift_wrap_quantity_three(self):
        ref = self.scenario.add_order(marketplace_id=DE, buyer_name="Karl Beispiel", items=[
            {"sku": "SKU-EU", "qty": 3, "price": "50.00", "tax": "7.98", "gift_wrap": "2.99",
             "gift_wrap_tax": "0.48", "gift_message": "Alles Gute!"}],
            address={"City": "Berlin", "PostalCode": "10115", "CountryCode": "DE",
                     "AddressLine1": "Unter den Linden 1", "StateOrRegion": ""})
        [res] = self.build([ref])
        self.assertEqual(res.state, "created", res.message)
        so = res.sale_order
        self.assertTotal(so, ref)                        # 50.00 + 2.99, VAT included
        self.assertAlmostEqual(so.amount_total, 52.99, places=2)
        self.assertEqual(so.currency_id.name, "EUR")
        lines = so.order_line.filtered(lambda l: l.product_id == self.products["SKU-EU"])
        self.assertEqual(sum(lines.mapped("product_uom_qty")), 3)
        self.assertAlmostEqual(sum(lines.mapped("price_total")), 50.00, places=2)
        self.assertTrue(all(t.price_include and t.amount == 19 for t in lines.tax_id))
        self.assertEqual(so.amazon_gift_message, "Alles Gute!")
        self.assertEqual(so.partner_shipping_id.country_id.code, "DE")

    def test_uk_multi_item(self):
        ref = self.scenario.add_order(marketplace_id=UK, items=[
            {"sku": "SKU-A", "qty": 1, "price": "12.00", "tax": "2.00"},
            {"sku": "SKU-B", "qty": 2, "price": "30.00", "tax": "5.00", "shipping": "3.60",
             "shipping_tax": "0.60"},
            {"sku": "SKU-C", "qty": 1, "price": "9.99", "tax": "1.67", "promotion": "1.00"}],
            address={"City": "London", "PostalCode": "SW1A 1AA", "CountryCode": "GB"})
        [res] = self.build([ref])
        so = res.sale_order
        self.assertTotal(so, ref)
        self.assertAlmostEqual(so.amount_total, 12.00 + 30.00 + 3.60 + 9.99 - 1.00, places=2)
        self.assertEqual(so.currency_id.name, "GBP")
        self.assertEqual(len(so.order_line.filtered(lambda l: l.product_id.default_code in ("SKU-A", "SKU-B", "SKU-C"))), 3)

    def test_buyer_seen_twice_one_partner(self):
        grace = {"buyer_name": "Grace Hopper", "buyer_email": "grace@marketplace.amazon.com",
                     "address": {"AddressLine1": "1 Navy Way", "City": "Arlington", "StateOrRegion": "VA",
                              "PostalCode": "22201"}}
        a = self.add_us_order(**grace)
        b = self.add_us_order(**grace)
        self.build([a])
        self.build([b])
        c = self.add_us_order(**grace)
        d = self.add_us_order(**grace)
        self.build([c, d])
        orders = self.orders_of([a, b, c, d])
        self.assertEqual(len(orders), 4)
        self.assertEqual(len(orders.partner_id), 1)
        self.assertEqual(len(self.env["res.partner"].search([("email", "=", "grace@marketplace.amazon.com")])), 1)
        self.assertEqual(len(orders.partner_shipping_id), 1)
        self.assertEqual(orders.partner_shipping_id.state_id.code, "VA")
        # a new ship-to of the same buyer becomes a delivery address under the same contact
        e = self.add_us_order(**dict(grace, address={"AddressLine1": "2 Other Rd", "Name": "Grace at work"}))
        [res] = self.build([e])
        self.assertEqual(res.sale_order.partner_id, orders.partner_id)
        self.assertEqual(res.sale_order.partner_shipping_id.parent_id, orders.partner_id)
        self.assertEqual(res.sale_order.partner_shipping_id.type, "delivery")

    def test_buyers_found_by_email_through_an_index(self):
        """The builder's buyer lookup (and the creation lock's) use an index on a large
        partner table, instead of reading every partner of the database per batch."""
        from ..models.res_partner import BUYER_EMAIL_INDEX
        Partner = self.env["res.partner"].with_context(active_test=False, tracking_disable=True)
        Partner.create([{"name": "Bulk buyer %d" % n, "email": "bulk.%d@marketplace.amazon.com" % n}
                        for n in range(3000)])
        Partner.flush_model()
        cr = self.env.cr
        cr.execute("ANALYZE res_partner")
        emails = ["bulk.7@marketplace.amazon.com", "bulk.2999@marketplace.amazon.com"]
        query = Partner._search([("email", "in", emails), ("parent_id", "=", False)])
        for statement in (query.select(), SQL(
                "SELECT email FROM res_partner WHERE email = ANY(%s) AND parent_id IS NULL", emails)):
            cr.execute(SQL("EXPLAIN %s", statement))
            plan = "\n".join(row[0] for row in cr.fetchall())
            self.assertIn(BUYER_EMAIL_INDEX, plan, plan)

    def test_new_buyers_of_one_batch(self):
        """New buyers are created together: one contact per e-mail within the batch,
        a second ship-to of the same buyer a delivery address under it, the buyer's
        own address again the contact itself."""
        home = {"buyer_name": "Ada Byron", "buyer_email": "ada@marketplace.amazon.com",
                "address": {"Name": "Ada Byron", "AddressLine1": "1 Analytical St", "City": "Austin",
                            "StateOrRegion": "TX", "PostalCode": "73301"}}
        work = dict(home, address=dict(home["address"], AddressLine1="2 Engine Rd"))
        refs = [self.add_us_order(**home), self.add_us_order(**work), self.add_us_order(**home),
                self.add_us_order(buyer_name="Alan Turing", buyer_email="alan@marketplace.amazon.com")]
        results = self.build(refs)
        self.assertEqual([r.state for r in results], ["created"] * 4, [r.message for r in results])
        ada1, ada2, ada3, alan = (r.sale_order for r in results)
        self.assertEqual(ada1.partner_id, ada2.partner_id)
        self.assertEqual(ada1.partner_id, ada3.partner_id)
        self.assertEqual(len(self.env["res.partner"].search([("email", "=", "ada@marketplace.amazon.com")])), 1)
        self.assertEqual(ada1.partner_shipping_id, ada1.partner_id)
        self.assertEqual(ada3.partner_shipping_id, ada1.partner_id)
        self.assertEqual(ada2.partner_shipping_id.parent_id, ada1.partner_id)
        self.assertEqual(ada2.partner_shipping_id.type, "delivery")
        self.assertEqual(ada2.partner_shipping_id.street, "2 Engine Rd")
        self.assertEqual(ada1.partner_id.company_type, "person")
        self.assertEqual(alan.partner_id.name, "Alan Turing")
        self.assertNotEqual(alan.partner_id, ada1.partner_id)
        for so in (ada1, alan):   # confirmed: the buyer follows the order, once
            self.assertEqual(so.message_follower_ids.filtered(lambda f, p=so.partner_id: f.partner_id == p)
                             .partner_id, so.partner_id)

    def test_fiscal_position_by_address_in_one_batch(self):
        """Odoo's automatic fiscal positions by zip range and by state: each order of
        one batch gets the one its ship-to address matches."""
        env = self.env
        Fpos = env["account.fiscal.position"]
        us = env.ref("base.us")
        by_zip = Fpos.create({"name": "US zip 90000-96199", "auto_apply": True, "country_id": us.id,
                              "zip_from": "90000", "zip_to": "96199", "company_id": self.company.id})
        ny = env["res.country.state"].search([("country_id", "=", us.id), ("code", "=", "NY")])
        by_state = Fpos.create({"name": "US New York", "auto_apply": True, "country_id": us.id,
                                "state_ids": [(6, 0, ny.ids)], "company_id": self.company.id})

        def at(state, zip_code):
            return self.add_us_order(address={"StateOrRegion": state, "PostalCode": zip_code,
                                              "AddressLine1": "1 Main St", "City": "Somewhere"})
        # same state, other zip; same zip, other state: each asked apart
        refs = [at("CA", "90210"), at("NY", "10001"), at("TX", "73301"), at("CA", "94105"),
                at("CA", "80000"), at("NJ", "10001")]
        fpos = [r.sale_order.fiscal_position_id for r in self.build(refs)]
        self.assertEqual(fpos, [by_zip, by_state, Fpos, by_zip, Fpos, Fpos])

    def test_no_name_gives_amazon_customer(self):
        ref = self.add_us_order(buyer_name="", buyer_email="anon@marketplace.amazon.com",
                                address={"Name": ""})
        [res] = self.build([ref])
        self.assertIn("Amazon Customer", res.sale_order.partner_id.name)
        self.assertTotal(res.sale_order, ref)

    def test_business_order_is_company(self):
        ref = self.add_us_order(is_business=True, buyer_company="ACME Corp", buyer_name="Wile E.")
        [res] = self.build([ref])
        self.assertTrue(res.sale_order.partner_id.is_company)
        self.assertEqual(res.sale_order.partner_id.name, "ACME Corp")
        self.assertTotal(res.sale_order, ref)

    def test_unknown_sku_without_auto_create(self):
        ref = self.add_us_order(items=[{"sku": "NO-SUCH-SKU", "qty": 1, "price": "5.00"}])
        ok = self.add_us_order()
        res = {r.ref: r for r in self.build([ref, ok])}
        self.assertEqual(res[ref].state, "failed")
        self.assertIn("NO-SUCH-SKU", res[ref].message)
        self.assertEqual(res[ok].state, "created", "the good order still imports")
        self.assertTotal(res[ok].sale_order, ok)
        self.assertFalse(self.orders_of([ref]))

    def test_unknown_sku_with_auto_create(self):
        self.seller.create_product_if_missing = True
        ref = self.add_us_order(items=[{"sku": "NEW-SKU-1", "qty": 2, "price": "15.00",
                                        "title": "Shiny new thing"}])
        [res] = self.build([ref])
        self.assertEqual(res.state, "created")
        product = self.env["product.product"].search([("default_code", "=", "NEW-SKU-1")])
        self.assertEqual(len(product), 1)
        self.assertEqual(product.name, "Shiny new thing")
        self.assertTotal(res.sale_order, ref)

    def test_sku_mapping(self):
        self.env["amazon.product.mapping"].create({"seller_id": self.seller.id, "sku": "AMZ-ONLY-SKU",
                                                   "product_id": self.products["SKU-C"].id})
        ref = self.add_us_order(items=[{"sku": "AMZ-ONLY-SKU", "qty": 1, "price": "7.00"}])
        [res] = self.build([ref])
        self.assertEqual(res.sale_order.order_line[0].product_id, self.products["SKU-C"])
        self.assertTotal(res.sale_order, ref)

    def test_kit_ships_components(self):
        kit = self.env["product.product"].create({"name": "Kit", "default_code": "KIT-1",
                                                  "detailed_type": "product"})
        comp1, comp2 = self.products["SKU-C"], self.products["SKU-D"]
        self.env["mrp.bom"].create({
            "product_tmpl_id": kit.product_tmpl_id.id, "type": "phantom", "product_qty": 1,
            "bom_line_ids": [(0, 0, {"product_id": comp1.id, "product_qty": 2}),
                             (0, 0, {"product_id": comp2.id, "product_qty": 1})]})
        ref = self.add_us_order(items=[{"sku": "KIT-1", "qty": 2, "price": "40.00"}])
        [res] = self.build([ref])
        moves = res.sale_order.picking_ids.move_ids
        self.assertEqual(set(moves.product_id.ids), {comp1.id, comp2.id})
        self.assertEqual(sum(moves.filtered(lambda m: m.product_id == comp1).mapped("product_uom_qty")), 4)
        self.assertTotal(res.sale_order, ref)

    def test_mto_manufacture_creates_mo(self):
        mto = self.env.ref("stock.route_warehouse0_mto")
        mto.active = True
        manufacture = self.env.ref("mrp.route_warehouse0_manufacture")
        product = self.env["product.product"].create({
            "name": "Made to order", "default_code": "MTO-1", "detailed_type": "product",
            "route_ids": [(6, 0, [mto.id, manufacture.id])]})
        self.env["mrp.bom"].create({
            "product_tmpl_id": product.product_tmpl_id.id, "type": "normal", "product_qty": 1,
            "bom_line_ids": [(0, 0, {"product_id": self.products["SKU-D"].id, "product_qty": 1})]})
        ref = self.add_us_order(items=[{"sku": "MTO-1", "qty": 3, "price": "90.00"}])
        [res] = self.build([ref])
        self.assertEqual(res.sale_order.mrp_production_count, 1)
        production = self.env["mrp.production"].search([("origin", "=", res.sale_order.name)])
        self.assertEqual(production.product_id, product)
        self.assertEqual(production.product_qty, 3)
        self.assertTotal(res.sale_order, ref)

    def test_prefix_vs_sequence(self):
        a = self.add_us_order()
        self.build([a])
        self.assertEqual(self.orders_of([a]).name, "AMZ-" + a)
        self.assertTotal(self.orders_of([a]), a)
        self.seller.use_odoo_sequence = True
        b = self.add_us_order()
        self.build([b])
        name = self.orders_of([b]).name
        self.assertNotIn(b, name)
        self.assertTrue(name.startswith("S"), name)
        self.assertTotal(self.orders_of([b]), b)

    def test_same_order_twice_one_order(self):
        ref = self.add_us_order()
        first = self.build([ref])
        second = self.build([ref, ref])
        self.assertEqual(first[0].state, "created")
        self.assertEqual([r.state for r in second], ["existing", "existing"])
        self.assertEqual(len(self.orders_of([ref])), 1)
        self.assertTotal(self.orders_of([ref]), ref)

    def test_database_constraint(self):
        ref = self.add_us_order()
        [res] = self.build([ref])
        from psycopg2 import IntegrityError

        from odoo.tools import mute_logger
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.env.cr.savepoint():
            res.sale_order.copy({"amazon_order_ref": ref, "amazon_seller_id": self.seller.id})
            self.env.flush_all()

    def test_unknown_marketplace(self):
        ref = self.scenario.add_order(marketplace_id="A13V1IB3VIYZZH", items=[
            {"sku": "SKU-A", "qty": 1, "price": "10.00"}])
        [res] = self.build([ref])
        self.assertEqual(res.state, "failed")
        self.assertIn("A13V1IB3VIYZZH", res.message)

    def _workflow(self, **flags):
        journal = self.env["account.journal"].search([("type", "=", "bank"),
                                                      ("company_id", "=", self.company.id)], limit=1)
        flags.setdefault("payment_journal_id", journal.id)
        self.seller.workflow_id = self.env["amazon.sale.workflow"].create(dict(name="wf", **flags))

    def test_workflow_none(self):
        self._workflow(confirm_order=False)
        ref = self.add_us_order()
        [res] = self.build([ref])
        self.assertEqual(res.sale_order.state, "draft")
        self.assertTotal(res.sale_order, ref)

    def test_workflow_confirm_invoice(self):
        self._workflow(confirm_order=True, create_invoice=True)
        ref = self.add_us_order()
        [res] = self.build([ref])
        so = res.sale_order
        self.assertEqual(so.state, "sale")
        self.assertEqual(len(so.invoice_ids), 1)
        self.assertEqual(so.invoice_ids.state, "draft")
        self.assertAlmostEqual(so.invoice_ids.amount_total, float(self.amazon_total(ref)), places=2)
        for line in so.invoice_ids.invoice_line_ids:
            self.assertEqual(line.analytic_distribution, {str(self.analytic.id): 100})

    def test_workflow_confirm_invoice_post(self):
        self._workflow(confirm_order=True, create_invoice=True, validate_invoice=True,
                       invoice_date_is_order_date=True)
        ref = self.add_us_order()
        [res] = self.build([ref])
        inv = res.sale_order.invoice_ids
        self.assertEqual(inv.state, "posted")
        self.assertEqual(inv.invoice_date, res.sale_order.date_order.date())
        self.assertAlmostEqual(inv.amount_total, float(self.amazon_total(ref)), places=2)

    def test_workflow_full_with_payment(self):
        self._workflow(confirm_order=True, create_invoice=True, validate_invoice=True,
                       register_payment=True)
        refs = [self.add_us_order(), self.scenario.add_order(marketplace_id=DE, items=[
            {"sku": "SKU-EU", "qty": 3, "price": "50.00", "tax": "7.98"}])]
        results = self.build(refs)
        for res in results:
            inv = res.sale_order.invoice_ids
            self.assertEqual(inv.state, "posted")
            self.assertIn(inv.payment_state, ("paid", "in_payment"))
            self.assertAlmostEqual(inv.amount_total, float(self.amazon_total(res.ref)), places=2)
            self.assertTotal(res.sale_order, res.ref)

    def test_workflow_failure_recorded_order_kept(self):
        """Odoo refuses to post an invoice with a negative total: that order says so and
        keeps its confirmation and draft invoice; the other order of the batch goes on."""
        self._workflow(confirm_order=True, create_invoice=True, validate_invoice=True)
        bad = self.add_us_order(items=[{"sku": "SKU-A", "qty": 1, "price": "5.00", "promotion": "8.00"}])
        good = self.add_us_order()
        results = {r.ref: r.sale_order for r in self.build([bad, good])}
        self.assertEqual(results[bad].state, "sale")
        self.assertEqual(results[bad].invoice_ids.state, "draft")
        self.assertIn("Posting the invoice failed", results[bad].amazon_workflow_message)
        self.assertTotal(results[bad], bad)
        self.assertEqual(results[good].invoice_ids.state, "posted")
        self.assertFalse(results[good].amazon_workflow_message)

    def test_batch_query_count_is_flat(self):
        """The builder's searches do not grow with the number of orders."""
        refs = [self.add_us_order(buyer_email="b%d@marketplace.amazon.com" % n) for n in range(12)]
        orders = [from_orders_api(self.scenario.orders[r]["order"], self.scenario.orders[r]["items"])
                  for r in refs]
        builder = OrderBuilder(self.seller)
        builder.build(orders[:2])
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        builder.build(orders[2:4])
        small = self.env.cr.sql_log_count - before
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        builder.build(orders[4:12])
        large = self.env.cr.sql_log_count - before
        # 4x the orders: the per-order part grows (inserts), the searches do not.
        self.assertLess(large, small * 4)
