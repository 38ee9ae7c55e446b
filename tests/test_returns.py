"""Amazon FBM returns, end to end against the emulator: a buyer returns items (an RMA) of
an order Odoo imported, shipped and invoiced; the returns cron requests
GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE (60 days at most), polls it and makes each RMA
one Amazon return with its incoming return picking and the credit note of Amazon's refund,
once; bad input is recorded on the return."""
from datetime import timedelta

from odoo.tests import tagged

from ..services import delivery
from ..services.const import REPORT_RETURNS
from .common import AmazonCase


@tagged("post_install", "-at_install")
class TestReturns(AmazonCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.seller.workflow_id = cls.env["amazon.sale.workflow"].create({
            "name": "Invoice and post", "confirm_order": True, "create_invoice": True,
            "validate_invoice": True})
        # the seller's other marketplaces stay out of the report requests' way
        cls.fbm_warehouse = cls.env["stock.warehouse"].create({
            "name": "Amazon FBM", "code": "AFBM", "company_id": cls.company.id})
        cls.mp_us.warehouse_id = cls.fbm_warehouse

    # ------------------------------------------------------------- helpers
    def _shipped(self, items=None):
        ref = self.add_us_order(status="Shipped", items=items)
        self.build([ref], shipped=True)
        order = self.orders_of([ref])
        delivery.deliver(order)
        self.assertEqual(order.picking_ids.state, "done")
        self.assertEqual(order.invoice_ids.state, "posted")
        return ref, order

    def _import(self):
        Return = self.env["amazon.return"]
        for _run in range(6):
            Return._cron_import_returns()
            if not self.seller.returns_report_ref:
                break
        return Return.search([("seller_id", "=", self.seller.id)])

    def _return_reports(self):
        return [r for r in self.emulator.reports.values() if r["reportType"] == REPORT_RETURNS]

    # ------------------------------------------------------------- tests
    def test_return_becomes_one_picking_and_one_credit_note(self):
        ref, order = self._shipped()
        rma = self.emulator.add_return(ref, refunded="full", reason="CR-DEFECTIVE",
                                       tracking="1ZRETURN0001")
        ret = self._import()
        self.assertEqual(len(ret), 1)
        self.assertEqual((ret.amazon_rma_ref, ret.amazon_order_ref, ret.sale_order_id),
                         (rma, ref, order))
        self.assertEqual(ret.state, "waiting", ret.message)
        self.assertEqual(ret.tracking_ref, "1ZRETURN0001")
        self.assertEqual(ret.line_ids.mapped("sku"), ["SKU-A"])
        self.assertEqual(ret.line_ids.quantity, 2)
        self.assertEqual(ret.line_ids.reason, "CR-DEFECTIVE")
        # the incoming return of the items, to the marketplace's FBM warehouse
        picking = ret.picking_id
        self.assertEqual(picking.picking_type_code, "incoming")
        self.assertEqual(picking.location_dest_id, self.fbm_warehouse.lot_stock_id)
        self.assertEqual(picking.move_ids.product_id, self.products["SKU-A"])
        self.assertEqual(picking.move_ids.product_uom_qty, 2)
        outgoing = order.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing")
        self.assertEqual(picking.move_ids.origin_returned_move_id, outgoing.move_ids)
        # Amazon's refund (item price and tax): a posted credit note on the order
        credit_note = ret.credit_note_id
        self.assertEqual(credit_note.move_type, "out_refund")
        self.assertEqual(credit_note.state, "posted")
        self.assertAlmostEqual(credit_note.amount_total, 21.49, places=2)
        self.assertAlmostEqual(ret.amount_refunded, 21.49, places=2)
        self.assertIn(credit_note, order.invoice_ids)
        self.assertAlmostEqual(order.invoice_ids.filtered(
            lambda m: m.move_type == "out_invoice").amount_residual, 24.89 - 21.49, places=2)
        self.assertEqual(order.amazon_return_count, 1)

        # the parcel arrives: the stock is back in the FBM warehouse
        picking.move_ids.quantity = 2
        picking.move_ids.picked = True
        picking.button_validate()
        self.assertEqual(ret.state, "received")
        quants = self.env["stock.quant"].search([("product_id", "=", self.products["SKU-A"].id),
                                                 ("location_id", "=", self.fbm_warehouse.lot_stock_id.id)])
        self.assertEqual(sum(quants.mapped("quantity")), 0.0,
                         "shipped 2 (stock went to -2), 2 came back")

        # the button asks the cron; the same RMA in the next report changes nothing
        action = self.seller.action_import_returns()
        self.assertEqual(action["tag"], "display_notification")
        self.assertTrue(self.seller.returns_requested)
        again = self._import()
        self.assertEqual(len(self._return_reports()), 2)
        self.assertEqual(again, ret)
        self.assertEqual(len(order.picking_ids.filtered(lambda p: p.picking_type_code == "incoming")), 1)
        self.assertEqual(len(order.invoice_ids.filtered(lambda m: m.move_type == "out_refund")), 1)
        # and processing it again does nothing either
        self.assertFalse(ret._process())
        self.assertEqual(ret.credit_note_id, credit_note)

    def test_partial_refund_is_a_partial_credit_note(self):
        ref, order = self._shipped(items=[
            {"sku": "SKU-A", "qty": 2, "price": "30.00", "tax": "2.48"},
            {"sku": "SKU-B", "qty": 1, "price": "15.00", "tax": "1.24"}])
        self.emulator.add_return(ref, [{"sku": "SKU-A", "qty": 1}], refunded="7.35",
                                 reason="CR-UNWANTED_ITEM")
        ret = self._import()
        self.assertEqual(ret.state, "waiting", ret.message)
        self.assertEqual(ret.picking_id.move_ids.product_id, self.products["SKU-A"])
        self.assertEqual(ret.picking_id.move_ids.product_uom_qty, 1)
        credit_note = ret.credit_note_id
        self.assertAlmostEqual(credit_note.amount_total, 7.35, places=2)
        self.assertTrue(credit_note.amount_tax, "the credit note keeps the order's taxes")
        self.assertEqual(credit_note.invoice_line_ids.filtered(
            lambda l: l.display_type == "product")[:1].product_id, self.products["SKU-A"])

    def test_not_refunded_yet_makes_no_credit_note(self):
        ref, order = self._shipped()
        self.emulator.add_return(ref, refunded=None)
        ret = self._import()
        self.assertEqual(ret.state, "waiting", ret.message)
        self.assertTrue(ret.picking_id)
        self.assertFalse(ret.credit_note_id)
        self.assertFalse(order.invoice_ids.filtered(lambda m: m.move_type == "out_refund"))
        # the parcel arrives; Amazon refunds the buyer: the next report's row says so
        ret.picking_id.move_ids.quantity = 2
        ret.picking_id.move_ids.picked = True
        ret.picking_id.button_validate()
        self.assertEqual(ret.state, "received")
        self.emulator.refund_return(ret.amazon_rma_ref, "full", delivered=self.now)
        self.seller.action_import_returns()
        self.assertEqual(self._import(), ret)
        self.assertEqual(ret.state, "received", ret.message)
        self.assertAlmostEqual(ret.credit_note_id.amount_total, 21.49, places=2)
        self.assertTrue(ret.delivery_date)
        self.assertEqual(len(order.picking_ids.filtered(lambda p: p.picking_type_code == "incoming")), 1)
        # and once more: still one credit note
        self.seller.action_import_returns()
        self._import()
        self.assertEqual(len(order.invoice_ids.filtered(lambda m: m.move_type == "out_refund")), 1)

    def test_bad_input_is_recorded_and_good_returns_go_through(self):
        good_ref, good_order = self._shipped()
        missing_ref = self.add_us_order(status="Shipped")       # not imported into Odoo
        ref, order = self._shipped(items=[{"sku": "SKU-B", "qty": 1, "price": "10.00", "tax": "0.83"}])
        good = self.emulator.add_return(good_ref, refunded="full")
        missing = self.emulator.add_return(missing_ref, refunded="full")
        unknown = self.emulator.add_return(ref, [{"sku": "SKU-ZZZ", "qty": 1,
                                                  "order_amount": "10.83"}])
        too_many = self.emulator.add_return(ref, [{"sku": "SKU-B", "qty": 3}])
        too_much = self.emulator.add_return(ref, [{"sku": "SKU-B", "qty": 1}], refunded="500.00")
        returns = {r.amazon_rma_ref: r for r in self._import()}
        self.assertEqual(len(returns), 5)
        self.assertEqual(returns[good].state, "waiting")
        self.assertTrue(returns[good].credit_note_id)
        expected = {missing: "is not in Odoo", unknown: "SKU-ZZZ is unknown",
                    too_many: "Units of SKU SKU-B returned: 3, but delivered and not returned yet",
                    too_much: "Amazon refunded 500.0, more than order"}
        for rma, text in expected.items():
            ret = returns[rma]
            self.assertEqual(ret.state, "to_check", rma)
            self.assertIn(text, ret.message or "")
            self.assertFalse(ret.picking_id, rma)
            self.assertFalse(ret.credit_note_id, rma)
        self.assertFalse(order.picking_ids.filtered(lambda p: p.picking_type_code == "incoming"))
        self.assertFalse(order.invoice_ids.filtered(lambda m: m.move_type == "out_refund"))

        # the order arrives in Odoo: Retry processes its return
        self.build([missing_ref], shipped=True)
        delivery.deliver(self.orders_of([missing_ref]))
        returns[missing].action_retry()
        self.env["amazon.return"]._cron_import_returns()
        self.assertEqual(returns[missing].state, "waiting", returns[missing].message)
        self.assertEqual(returns[missing].sale_order_id, self.orders_of([missing_ref]))
        self.assertTrue(returns[missing].credit_note_id)

    def test_no_return_is_cancelled_and_windows_are_60_days(self):
        self.seller.returns_cursor = self.now.replace(tzinfo=None) - timedelta(days=100)
        found = self._import()
        self.assertFalse(found)
        reports = self._return_reports()
        self.assertEqual(len(reports), 2, "100 days: two reports of at most 60 days")
        for report in reports:
            self.assertEqual(report["processingStatus"], "CANCELLED")
            start = report["dataStartTime"]
            end = report["dataEndTime"]
            self.assertLessEqual(
                (self._dt(end) - self._dt(start)).total_seconds(), 60 * 86400)
        self.assertFalse(self.seller.returns_report_ref)
        self.assertGreater(self.seller.returns_cursor,
                           self.now.replace(tzinfo=None) - timedelta(days=2))
        self.assertFalse(self.seller.message_ids.filtered(lambda m: "failed" in (m.body or "")))

    def test_fatal_report_is_said_on_the_seller_and_requested_again(self):
        ref, _order = self._shipped()
        self.emulator.add_return(ref, refunded="full")
        self.emulator.script_next_report("FATAL")
        self.assertFalse(self._import())
        self.assertFalse(self.seller.returns_report_ref)
        self.assertFalse(self.seller.returns_cursor, "a FATAL report moves nothing on")
        self.assertTrue(self.seller.message_ids.filtered(
            lambda m: "could not make the returns report" in (m.body or "")))
        # the button asks again; Amazon makes it this time
        self.seller.action_import_returns()
        cron = self.env.ref("amazon_fbm_connector.ir_cron_amazon_import_returns")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))
        ret = self._import()
        self.assertEqual(ret.state, "waiting", ret.message)

    @staticmethod
    def _dt(value):
        from datetime import datetime
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
