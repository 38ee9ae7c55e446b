from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CancellationCase


@tagged("post_install", "-at_install")
class TestAmazonCancellations(CancellationCase):

    def sync(self):
        return self.seller._sync_order_status()

    def notes(self, so):
        return " ".join(so.message_ids.mapped("body"))

    # ---------------------------------------------------------------- tests
    def test_cancelled_unshipped_order_cancelled_with_credit_note(self):
        self.use_workflow()
        ref, so = self.import_order()
        invoice = so.invoice_ids
        self.assertEqual(invoice.state, "posted")
        self.emulator.cancel_order(ref, by="BUYER", reason="Ordered by mistake")
        counts = self.sync()
        self.assertEqual(counts["cancelled"], 1)
        self.assertEqual(so.state, "cancel")
        self.assertEqual(so.amazon_status, "Canceled")
        self.assertEqual(so.picking_ids.mapped("state"), ["cancel"])
        refund = so.invoice_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(refund.state, "posted")
        self.assertAlmostEqual(refund.amount_total, invoice.amount_total)
        self.assertEqual(refund.reversed_entry_id, invoice)
        self.assertEqual(invoice.payment_state, "reversed")
        notes = self.notes(so)
        self.assertIn("Amazon cancelled this order: cancelled by the buyer, reason: Ordered by mistake", notes)
        self.assertIn(refund.name, notes)
        self.assertEqual((so.amazon_cancelled_by, so.amazon_cancel_reason), ("BUYER", "Ordered by mistake"))
        # a second sync over the same window changes nothing
        self.assertEqual(self.sync()["cancelled"], 0)
        self.assertEqual(len(so.invoice_ids), 2)

    def test_cancelled_paid_order_refund_is_paid_back(self):
        self.use_workflow(pay=True)
        ref, so = self.import_order()
        invoice = so.invoice_ids
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.emulator.cancel_order(ref, by="BUYER", reason="Found it cheaper")
        self.sync()
        self.assertEqual(so.state, "cancel")
        refund = so.invoice_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(refund.state, "posted")
        self.assertIn(refund.payment_state, ("paid", "in_payment"), "refund registered like Odoo does")
        payment = self.env["account.payment"].search([("partner_id", "=", so.partner_id.id),
                                                      ("payment_type", "=", "outbound")])
        self.assertAlmostEqual(payment.amount, invoice.amount_total)

    def test_cancelled_after_shipping_gets_activity(self):
        ref, so = self.import_order()
        self.ship(so.picking_ids)       # shipped in Odoo; Amazon not told yet
        self.emulator.cancel_order(ref, by="BUYER", reason="No longer needed")
        counts = self.sync()
        self.assertEqual(counts["cancelled_shipped"], 1)
        self.assertEqual(so.state, "sale", "nothing is undone")
        self.assertEqual(so.picking_ids.state, "done")
        activity = so.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.summary, "Amazon cancelled an order you shipped: arrange the return")
        self.assertIn("Cancelled by the buyer, reason: No longer needed", activity.note)
        self.assertEqual(self.sync()["cancelled_shipped"], 0)
        self.assertEqual(len(so.activity_ids), 1, "one activity, not one per sync")
        # the confirmation Amazon now refuses says why
        self.env["stock.picking"]._cron_amazon_confirm_shipments()
        self.assertEqual(so.picking_ids.amazon_confirm_state, "failed")
        self.assertIn("cancelled", so.picking_ids.amazon_confirm_message)

    def test_pending_cancellation_request_blocks_validation(self):
        ref, so = self.import_order()
        self.emulator.request_cancellation(ref, reason="Ordered by mistake")
        counts = self.sync()
        self.assertEqual(counts["requests"], 1)
        self.assertTrue(so.amazon_cancel_requested)
        picking = so.picking_ids
        with self.assertRaisesRegex(UserError, "the buyer asked Amazon to cancel"):
            self.ship(picking)
        self.assertNotEqual(picking.state, "done")
        self.assertIn("Ordered by mistake", self.notes(so))
        # the seller cancels it in Seller Central: the next sync cancels the order
        self.emulator.cancel_order(ref, by="MERCHANT", reason="Buyer request")
        self.sync()
        self.assertEqual(so.state, "cancel")
        self.assertFalse(so.amazon_cancel_requested)

    def test_declined_request_unblocks_delivery(self):
        ref, so = self.import_order()
        self.emulator.request_cancellation(ref, reason="Changed my mind")
        self.sync()
        self.assertTrue(so.amazon_cancel_requested)
        self.emulator.decline_cancellation(ref)
        self.sync()
        self.assertFalse(so.amazon_cancel_requested)
        self.ship(so.picking_ids)

    def test_orders_api_v0_cancellation_and_request(self):
        """Orders API v0 says neither who cancelled nor why; its buyer requests come with
        getOrderItems (one call per open order Odoo has)."""
        self.seller.orders_api_version = "v0"
        ref, so = self.import_order()
        other, so_other = self.import_order()
        self.emulator.request_cancellation(ref, reason="Wrong size")
        self.emulator.cancel_order(other, by="BUYER", reason="Ordered by mistake")
        counts = self.sync()
        self.assertEqual((counts["requests"], counts["cancelled"]), (1, 1))
        self.assertTrue(so.amazon_cancel_requested)
        self.assertEqual(so.amazon_cancel_request_reason, "Wrong size")
        self.assertEqual(so_other.state, "cancel")
        self.assertIn("cancelled by someone (Amazon does not say who), reason: not given", self.notes(so_other))
        self.assertEqual(self.emulator.calls["getOrderItems"], 1, "items only for the open order")

    def test_partial_cancellation_reduces_line(self):
        ref, so = self.import_order(items=[
            {"sku": "SKU-A", "qty": 2, "price": "20.00", "tax": "1.65"},
            {"sku": "SKU-B", "qty": 1, "price": "10.00", "tax": "0.83"}])
        item_b = self.scenario.orders[ref]["items"][1]["OrderItemId"]
        self.emulator.cancel_item(ref, item_b, reason="Out of stock")
        counts = self.sync()
        self.assertEqual(counts["reduced"], 1)
        self.assertEqual(so.state, "sale")
        line_b = so.order_line.filtered(lambda l: l.amazon_order_item_id == item_b)
        self.assertEqual(line_b.product_uom_qty, 0)
        line_a = so.order_line.filtered(lambda l: l.product_id == self.products["SKU-A"])
        self.assertEqual(line_a.product_uom_qty, 2)
        moves_b = so.picking_ids.move_ids.filtered(lambda m: m.product_id == self.products["SKU-B"]
                                                   and m.state != "cancel")
        self.assertFalse(sum(moves_b.mapped("product_uom_qty")), "the delivery no longer carries it")
        self.assertIn("Amazon cancelled part of this order (by the seller, reason: Out of stock)", self.notes(so))

    def test_partial_cancellation_of_invoiced_order_credits_the_item(self):
        self.use_workflow()
        ref, so = self.import_order(items=[
            {"sku": "SKU-A", "qty": 2, "price": "20.00", "tax": "1.65"},
            {"sku": "SKU-B", "qty": 1, "price": "10.00", "tax": "0.83"}])
        invoice = so.invoice_ids
        self.assertEqual(invoice.state, "posted")
        item_b = self.scenario.orders[ref]["items"][1]["OrderItemId"]
        self.emulator.cancel_item(ref, item_b, by="MERCHANT", reason="Out of stock")
        self.sync()
        refund = so.invoice_ids.filtered(lambda m: m.move_type == "out_refund")
        self.assertEqual(refund.state, "posted")
        self.assertEqual(refund.invoice_line_ids.product_id, self.products["SKU-B"])
        self.assertAlmostEqual(refund.amount_untaxed, 10.0)
        self.assertEqual(so.state, "sale")
        # the rest still ships and is confirmed to Amazon with item A only
        picking = so.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))
        self.ship(picking)
        self.env["stock.picking"]._cron_amazon_confirm_shipments()
        self.assertEqual(picking.amazon_confirm_state, "sent", picking.amazon_confirm_message)
        self.assertEqual(self.scenario.orders[ref]["order"]["OrderStatus"], "Shipped")

    def test_long_window_is_followed_page_by_page(self):
        """More changed orders than one page holds: each unit applies one page and keeps
        the next-page token on the seller, the cursor moves once the last page is applied;
        a refused token is dropped and the window listed again."""
        ref, so = self.import_order()
        other, so_other = self.import_order()
        for _n in range(101):
            self.add_us_order(status="Shipped")
        self.emulator.cancel_order(ref, by="BUYER", reason="Ordered by mistake")
        self.emulator.cancel_order(other, by="SELLER", reason="Out of stock")
        first = self.sync()
        self.assertFalse(first["_done"])
        self.assertTrue(self.seller.fbm_status_sync_token)
        params = self.seller.fbm_status_sync_params
        self.assertTrue(params)
        self.assertFalse(self.seller.fbm_status_sync_cursor, "the window is not read yet")
        second = self.sync()
        self.assertTrue(second["_done"])
        self.assertEqual(first["cancelled"] + second["cancelled"], 2)
        self.assertEqual((so.state, so_other.state), ("cancel", "cancel"))
        self.assertFalse(self.seller.fbm_status_sync_token)
        self.assertFalse(self.seller.fbm_status_sync_params)
        self.assertTrue(self.seller.fbm_status_sync_cursor)
        self.assertEqual(self.emulator.calls["searchOrders"], 2, "each page read once")

        # a page token Amazon refuses (expired, say): said on the seller, dropped, and the
        # next pass lists the window again from its first page
        self.seller.fbm_status_sync_auto = True
        cursor = self.seller.fbm_status_sync_cursor
        self.seller.write({"fbm_status_sync_params": params,
                           "fbm_status_sync_token": "not-a-token"})
        self.env["amazon.seller"]._cron_amazon_status_sync()
        self.assertFalse(self.seller.fbm_status_sync_token)
        self.assertIn("Following Amazon order changes failed",
                      self.seller.message_ids[0].body)
        self.assertEqual(self.seller.fbm_status_sync_cursor, cursor)
        self.assertTrue(self.sync()["_done"])
