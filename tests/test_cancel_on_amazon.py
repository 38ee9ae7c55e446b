"""Cancel on Amazon from Odoo (POST_ORDER_ACKNOWLEDGEMENT_DATA) against the emulator:
accepted, rejected because shipped, FATAL feed, partial lines, the buyer's request
(Accept / Ship anyway), one feed for a seller's cancellations, never twice."""
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CancellationCase


@tagged("post_install", "-at_install")
class TestAmazonCancelOnAmazon(CancellationCase):

    def ask_cancel(self, so, reason="NoInventory", lines=None, context=None):
        wizard = self.env["amazon.order.cancel.wizard"].with_context(**(context or {})).create(
            dict({"sale_order_id": so.id, "line_ids": [(6, 0, (lines or so.order_line.browse()).ids)]},
                 **({"reason": reason} if reason else {})))
        wizard.action_confirm()
        return wizard

    def run_cron(self, times=4):
        for _i in range(times):
            self.env["sale.order"]._cron_send_cancellations()

    def notes(self, so):
        return " ".join(so.message_ids.mapped("body"))

    def error_of(self, fn, *args):
        try:
            fn(*args)
        except UserError as exc:
            return str(exc)
        return None

    def amazon_status(self, ref):
        return self.scenario.orders[ref]["order"]["OrderStatus"]

    # ---------------------------------------------------------------- tests
    def test_accepted_cancels_order_delivery_invoice_and_refunds(self):
        self.use_workflow(pay=True)
        ref, so = self.import_order()
        invoice = so.invoice_ids
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.ask_cancel(so, "NoInventory")
        self.assertEqual(so.amazon_cancel_state, "to_send")
        self.assertEqual(so.state, "sale", "nothing is cancelled in Odoo before Amazon accepts")
        self.assertIn("do not ship", (self.error_of(self.ship, so.picking_ids) or "").lower())
        self.env["sale.order"]._cron_send_cancellations()
        self.assertEqual(so.amazon_cancel_state, "sent")
        self.assertTrue(so.amazon_cancel_feed_ref)
        self.assertEqual(so.state, "sale")
        self.run_cron()
        self.assertEqual(so.amazon_cancel_state, "accepted")
        self.assertEqual(self.amazon_status(ref), "Canceled")
        self.assertEqual(self.scenario.orders[ref]["cancellation"]["reason"], "NoInventory")
        self.assertEqual(so.state, "cancel")
        self.assertEqual(so.picking_ids.mapped("state"), ["cancel"])
        refund = so.invoice_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(refund.state, "posted")
        self.assertAlmostEqual(refund.amount_total, invoice.amount_total)
        self.assertIn(refund.payment_state, ("paid", "in_payment"))
        self.assertIn("reason: NoInventory", self.notes(so))
        # never twice: the cron and the status sync find nothing left to do
        self.run_cron()
        self.assertEqual(self.seller._sync_order_status()["cancelled"], 0)
        self.assertEqual(so.amazon_status, "Canceled")
        self.assertEqual(self.emulator.calls["createFeed"], 1)
        self.assertEqual(len(so.invoice_ids), 2)
        self.assertTrue(self.error_of(so.action_amazon_cancel_on_amazon))

    def test_status_sync_first_then_report_cancels_once(self):
        self.use_workflow(pay=True)
        ref, so = self.import_order()
        self.ask_cancel(so)
        self.env["sale.order"]._cron_send_cancellations()
        feed = self.emulator.feeds[so.amazon_cancel_feed_ref]
        while feed["processingStatus"] not in ("DONE", "FATAL"):
            self.emulator._advance_feed(feed)     # Amazon processes the feed...
        self.assertEqual(self.amazon_status(ref), "Canceled")
        self.assertEqual(self.seller._sync_order_status()["cancelled"], 1)   # ...the sync sees it first
        self.assertEqual(so.state, "cancel")
        self.run_cron()
        self.assertEqual(so.amazon_cancel_state, "accepted")
        self.assertEqual(len(so.invoice_ids.filtered(lambda m: m.move_type == "out_refund")), 1)

    def test_rejected_because_shipped_cancels_nothing(self):
        self.use_workflow()
        ref, so = self.import_order()
        self.ask_cancel(so, "ShippingAddressUndeliverable")
        self.scenario.set_status(ref, "Shipped")      # shipped from Seller Central meanwhile
        self.run_cron()
        self.assertEqual(so.amazon_cancel_state, "rejected")
        self.assertIn("already shipped", so.amazon_cancel_message)
        self.assertIn("Amazon rejected the cancellation", self.notes(so))
        self.assertEqual(so.state, "sale")
        self.assertNotIn("cancel", so.picking_ids.mapped("state"))
        self.assertEqual(so.invoice_ids.mapped("move_type"), ["out_invoice"])
        self.assertEqual(self.amazon_status(ref), "Shipped")

    def test_fatal_feed_cancels_nothing(self):
        ref, so = self.import_order()
        self.emulator.script_next_feed("FATAL")
        self.ask_cancel(so)
        self.run_cron()
        self.assertEqual(so.amazon_cancel_state, "rejected")
        self.assertIn("FATAL", so.amazon_cancel_message)
        self.assertEqual(so.state, "sale")
        self.assertEqual(self.amazon_status(ref), "Unshipped")
        # the seller may try again: the next feed goes through
        self.ask_cancel(so)
        self.run_cron()
        self.assertEqual(so.amazon_cancel_state, "accepted")
        self.assertEqual(so.state, "cancel")

    def test_partial_lines(self):
        ref, so = self.import_order(items=[
            {"sku": "SKU-A", "qty": 2, "price": "20.00", "tax": "1.65"},
            {"sku": "SKU-B", "qty": 1, "price": "10.00", "tax": "0.83"}])
        line_a = so.order_line.filtered(lambda l: l.product_id.default_code == "SKU-A")
        line_b = so.order_line.filtered(lambda l: l.product_id.default_code == "SKU-B")
        self.ask_cancel(so, "NoInventory", lines=line_a)
        self.assertEqual(so.amazon_cancel_line_ids, line_a)
        self.run_cron()
        self.assertEqual(so.amazon_cancel_state, "accepted")
        self.assertEqual(so.state, "sale")
        self.assertEqual(line_a.product_uom_qty, 0)
        self.assertEqual(line_b.product_uom_qty, 1)
        items = {i["SellerSKU"]: i for i in self.scenario.orders[ref]["items"]}
        self.assertEqual((items["SKU-A"]["QuantityOrdered"], items["SKU-B"]["QuantityOrdered"]), (0, 1))
        self.assertEqual(self.amazon_status(ref), "Unshipped")
        counts = self.seller._sync_order_status()
        self.assertEqual((counts["reduced"], counts["cancelled"]), (0, 0))
        self.assertEqual(line_b.product_uom_qty, 1)
        self.ship(so.picking_ids.filtered(lambda p: p.state not in ("done", "cancel")))

    def test_one_feed_per_seller(self):
        (ref1, so1), (ref2, so2) = self.import_order(), self.import_order()
        self.ask_cancel(so1)
        self.ask_cancel(so2, "GeneralAdjustment")
        self.run_cron()
        self.assertEqual(self.emulator.calls["createFeed"], 1)
        self.assertEqual(so1.amazon_cancel_feed_ref, so2.amazon_cancel_feed_ref)
        self.assertEqual((so1.state, so2.state), ("cancel", "cancel"))
        self.assertEqual((self.amazon_status(ref1), self.amazon_status(ref2)), ("Canceled", "Canceled"))

    def test_buyer_request_accept(self):
        ref, so = self.import_order()
        self.emulator.request_cancellation(ref, reason="Ordered by mistake")
        self.seller._sync_order_status()
        self.assertTrue(so.amazon_cancel_requested)
        action = so.action_amazon_accept_cancel_request()
        self.assertEqual(action["context"]["default_reason"], "BuyerCanceled")
        wizard = self.env["amazon.order.cancel.wizard"].with_context(**action["context"]).create({})
        self.assertEqual(wizard.reason, "BuyerCanceled")
        wizard.action_confirm()
        self.run_cron()
        self.assertEqual(so.amazon_cancel_state, "accepted")
        self.assertEqual(so.state, "cancel")
        self.assertEqual(self.scenario.orders[ref]["cancellation"]["reason"], "BuyerCanceled")
        self.assertFalse(so.amazon_cancel_requested)

    def test_buyer_request_ship_anyway(self):
        ref, so = self.import_order()
        self.emulator.request_cancellation(ref, reason="Changed my mind")
        self.seller._sync_order_status()
        self.assertTrue(so.amazon_cancel_requested)
        so.action_amazon_ship_anyway()
        self.assertFalse(so.amazon_cancel_requested)
        self.assertIn("chose to ship despite the buyer", self.notes(so))
        # Amazon still shows the request: the next sync does not block the delivery again
        self.emulator.request_cancellation(ref, reason="Changed my mind")   # Amazon shows it again
        self.seller._sync_order_status()
        self.assertFalse(so.amazon_cancel_requested)
        self.ship(so.picking_ids)
        self.assertTrue(self.error_of(so.action_amazon_ship_anyway))

    def test_never_twice_and_not_when_shipped(self):
        ref, so = self.import_order()
        self.ask_cancel(so)
        self.assertIn("already on its way", self.error_of(so.action_amazon_cancel_on_amazon) or "")
        self.assertIn("already on its way", self.error_of(self.ask_cancel, so) or "")
        self.run_cron()
        self.assertEqual(self.emulator.calls["createFeed"], 1)
        # a shipped order cannot be cancelled on Amazon
        ref2, so2 = self.import_order()
        self.ship(so2.picking_ids)
        self.assertIn("has shipped", self.error_of(so2.action_amazon_cancel_on_amazon) or "")
        # an order of another channel neither
        plain = self.env["sale.order"].create({"partner_id": so.partner_id.id})
        self.assertIn("Only Amazon FBM", self.error_of(plain.action_amazon_cancel_on_amazon) or "")

    # ------------------------------------------------------ refund from Odoo
    def refund_of(self, so):
        invoice = so.invoice_ids.filtered(lambda m: m.move_type == "out_invoice")
        refund = invoice._reverse_moves([{"ref": "Return"}])
        refund.action_post()
        return refund

    def run_refunds(self, times=4):
        for _i in range(times):
            self.env["account.move"]._cron_send_amazon_refunds()

    def test_refund_from_credit_note_once(self):
        self.use_workflow()
        ref, so = self.import_order(items=[{"sku": "SKU-A", "qty": 2, "price": "20.00", "tax": "1.65",
                                            "shipping": "4.99", "shipping_tax": "0.41"}])
        self.scenario.set_status(ref, "Shipped")
        refund = self.refund_of(so)
        self.assertTrue(refund.amazon_refundable)
        refund.action_amazon_send_refund()
        self.assertEqual(refund.amazon_refund_state, "to_send")
        self.run_refunds()
        self.assertEqual(refund.amazon_refund_state, "accepted", refund.amazon_refund_message)
        [item] = self.scenario.orders[ref]["items"]
        self.assertEqual(self.scenario.orders[ref]["refunds"][item["OrderItemId"]],
                         {"Principal": 20.0, "Tax": 1.65, "Shipping": 4.99, "ShippingTax": 0.41})
        # never twice: the button refuses, the cron sends nothing more
        self.assertIn("already sent", self.error_of(refund.action_amazon_send_refund) or "")
        self.run_refunds()
        self.assertEqual(self.emulator.calls["createFeed"], 1)
        # a second credit note for the same amounts is more than the buyer paid: Amazon refuses
        again = self.refund_of(so)
        again.action_amazon_send_refund()
        self.run_refunds()
        self.assertEqual(again.amazon_refund_state, "rejected")
        self.assertIn("exceeds what the buyer paid", again.amazon_refund_message)

    def test_refund_of_unshipped_order_rejected(self):
        self.use_workflow()
        ref, so = self.import_order(items=[{"sku": "SKU-A", "qty": 1, "price": "10.00", "tax": "0.83"}])
        refund = self.refund_of(so)
        refund.action_amazon_send_refund()
        self.run_refunds()
        self.assertEqual(refund.amazon_refund_state, "rejected")
        self.assertIn("has not shipped", refund.amazon_refund_message)
        self.assertNotIn("refunds", self.scenario.orders[ref])
