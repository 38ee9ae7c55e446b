"""Amazon settlements, end to end against the emulator: Amazon publishes a settlement of
orders Odoo imported and invoiced; the cron lists it (getReports), downloads it once, and
books it as a bank statement of the seller's settlement journal, reconciled."""
import threading
import time
from datetime import timedelta
from decimal import Decimal
from functools import partial
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..services.rate_limit import RateLimiter
from ..services.settlement_booking import SettlementBooking
from .common import AmazonCase, cron_worker, run_in_threads

UNKNOWN_ORDER = "999-0000000-0000001"


@tagged("post_install", "-at_install")
class TestSettlements(AmazonCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.journal = cls.seller._settlement_journal()
        cls.seller.workflow_id = env["amazon.sale.workflow"].create({
            "name": "Invoice and pay", "confirm_order": True, "create_invoice": True,
            "validate_invoice": True, "register_payment": True,
            "payment_journal_id": cls.journal.id})
        cls.unpaid_workflow = env["amazon.sale.workflow"].create({
            "name": "Invoice only", "confirm_order": True, "create_invoice": True,
            "validate_invoice": True})

    # ------------------------------------------------------------- helpers
    def _orders(self, count, paid=True):
        refs = [self.add_us_order(status="Shipped", purchase_date=self.now - timedelta(days=3 + n))
                for n in range(count)]
        if not paid:
            saved = self.seller.workflow_id
            self.seller.workflow_id = self.unpaid_workflow
            self.build(refs, shipped=True)
            self.seller.workflow_id = saved
        else:
            self.build(refs, shipped=True)
        orders = self.orders_of(refs)
        self.assertEqual(len(orders.invoice_ids.filtered(lambda m: m.state == "posted")), count)
        return refs

    def _refund(self, ref):
        invoice = self.orders_of([ref]).invoice_ids
        reversal = self.env["account.move.reversal"].with_context(
            active_model="account.move", active_ids=invoice.ids).create({
                "reason": "Amazon refund", "journal_id": invoice.journal_id.id})
        credit_note = self.env["account.move"].browse(reversal.refund_moves()["res_id"])
        credit_note.action_post()
        return credit_note

    def _import(self):
        self.env["amazon.settlement"]._cron_import_settlements()
        return self.env["amazon.settlement"].search([("seller_id", "=", self.seller.id)])

    def _balance(self, account, moves=None):
        domain = [("account_id", "=", account.id), ("parent_state", "=", "posted")]
        if moves is not None:
            domain.append(("move_id", "in", moves.ids))
        return sum(self.env["account.move.line"].search(domain).mapped("balance"))

    def _clearing(self):
        """The "Tax collected by Amazon" account the US invoices credit."""
        return self.mp_us.amazon_tax_account_id or self.env.ref(
            "amazon_fbm_connector.tax_collected_by_amazon_%s" % self.company.id)

    def _rows(self, builder, **match):
        return [r for r in builder.rows if all(r[k.replace("_", "-")] == v for k, v in match.items())]

    def _sum(self, rows):
        return float(sum(Decimal(r["amount"]) for r in rows))

    # ------------------------------------------------------------- tests
    def test_settlement_reconciles_the_books(self):
        paid = self._orders(2)
        unpaid = self._orders(1, paid=False)
        refunded = self._orders(1)
        credit_note = self._refund(refunded[0])
        settled = paid + unpaid + refunded
        _report_id, builder = self.emulator.add_settlement(
            settled, refunds=refunded, fees=[("Subscription Fee", "-39.99")],
            reserve_previous="50.00", reserve_current="-60.00", unknown_orders=[UNKNOWN_ORDER],
            unknown_amounts=[("NewAmountType2027", "Something new", "-2.50")])

        settlement = self._import()
        self.assertEqual(len(settlement), 1)
        self.assertEqual(settlement.settlement_ref, builder.settlement_id)
        self.assertAlmostEqual(settlement.total_amount, float(builder.total), places=2)
        self.assertEqual(settlement.stage, "done")
        self.assertEqual(settlement.line_count, len(builder.rows))

        # every settled order's invoice is paid and reconciled, the refund's credit note too
        invoices = self.orders_of(settled).invoice_ids.filtered(lambda m: m.move_type == "out_invoice")
        self.assertEqual(len(invoices), 4)
        self.assertEqual(set(invoices.mapped("payment_state")), {"paid"})
        self.assertEqual(credit_note.payment_state, "paid")
        # Community shows an invoice paid once a payment is registered: the settlement
        # is what matches those payments (their outstanding receipts) with Amazon's money
        payments = invoices._get_reconciled_payments()
        self.assertEqual(len(payments), 3, "three of the four orders were paid by the workflow")
        self.assertTrue(all(payments.mapped("is_matched")))
        receivables = (invoices | credit_note).line_ids.filtered(
            lambda l: l.account_id.account_type == "asset_receivable")
        self.assertTrue(all(receivables.mapped("reconciled")))

        # the statement balances, and the payout is Amazon's total
        statement = settlement.statement_id
        self.assertEqual(statement.journal_id, self.journal)
        self.assertTrue(statement.is_complete)
        self.assertAlmostEqual(statement.balance_end, statement.balance_end_real, places=2)
        payout = statement.line_ids.filtered(lambda l: "payout" in l.payment_ref)
        self.assertAlmostEqual(payout.amount, -float(builder.total), places=2)
        self.assertEqual(payout.move_id.line_ids.account_id - self.journal.default_account_id,
                         self.company.transfer_account_id)

        # Amazon's fees are on their accounts
        commissions = self._rows(builder, amount_description="Commission") + \
            self._rows(builder, amount_description="RefundCommission")
        known = [r for r in commissions if r["order-id"] != UNKNOWN_ORDER]
        booked = statement.line_ids.move_id   # (committed tests may use the same accounts)
        self.assertAlmostEqual(self._balance(self.seller._settlement_account("commission"), booked),
                               -self._sum(known), places=2)
        fees = self._rows(builder, amount_description="FixedClosingFee") + \
            self._rows(builder, amount_description="Subscription Fee")
        self.assertAlmostEqual(self._balance(self.seller._settlement_account("fee"), booked),
                               -self._sum(fees), places=2)
        self.assertAlmostEqual(self._balance(self.seller._settlement_account("reserve"), booked), 10.0,
                               places=2)

        # the tax Amazon collected and withheld: the clearing account is back to zero
        clearing = self._clearing()
        withheld = self._rows(builder, amount_type="ItemWithheldTax")
        self.assertTrue(withheld)
        self.assertAlmostEqual(self._balance(clearing, invoices | credit_note), self._sum(withheld),
                               places=2, msg="the invoices credited what Amazon withheld")
        self.assertAlmostEqual(self._balance(clearing, invoices | credit_note | booked), 0.0, places=2)

        # what cannot be matched is listed, with its reason, and waits on the suspense account
        unmatched = settlement.line_ids.filtered(lambda l: l.state == "unmatched")
        self.assertEqual(len(unmatched), 3)
        self.assertEqual(settlement.unmatched_line_ids, unmatched, "the form's Left to Reconcile tab")
        self.assertEqual(set(unmatched.filtered("amazon_order_ref").mapped("amazon_order_ref")),
                         {UNKNOWN_ORDER})
        self.assertTrue(all("not in Odoo" in r for r in unmatched.filtered("amazon_order_ref").mapped("reason")))
        self.assertIn("NewAmountType2027", unmatched.filtered(lambda l: not l.amazon_order_ref).reason)
        self.assertEqual(settlement.state, "to_check")
        self.assertIn("not matched", settlement.message)
        suspense = self.journal.suspense_account_id
        self.assertAlmostEqual(self._balance(suspense, booked),
                               -(19.99 - 3.00 - 2.50), places=2)
        self.assertEqual(set((settlement.line_ids - unmatched).mapped("state")), {"matched"})

        # imported twice -> once: nothing listed is downloaded or booked again
        downloads = self.emulator.calls["getReportDocument"]
        st_lines = statement.line_ids
        self.seller.action_import_settlements()
        again = self._import()
        self.assertEqual(again, settlement)
        self.assertEqual(self.emulator.calls["getReportDocument"], downloads)
        self.assertEqual(statement.line_ids, st_lines)
        self.assertEqual(self.env["account.bank.statement"].search_count(
            [("journal_id", "=", self.journal.id)]), 1)

    def test_clean_settlement_is_reconciled(self):
        refs = self._orders(2)
        self.emulator.add_settlement(refs, fees=[("Subscription Fee", "-39.99")])
        settlement = self._import()
        self.assertEqual(settlement.state, "reconciled", settlement.message)
        self.assertFalse(settlement.line_ids.filtered(lambda l: l.state != "matched"))
        self.assertTrue(all(self.orders_of(refs).invoice_ids._get_reconciled_payments().mapped("is_matched")))
        self.assertTrue(all(settlement.statement_id.line_ids.mapped("is_reconciled")))
        self.assertEqual(self.seller.workflow_id.payment_journal_id, self.seller.settlement_journal_id)
        # each order's statement line is what its buyer paid, against its payment alone
        for order in self.orders_of(refs):
            charges = settlement.line_ids.filtered(
                lambda l, o=order: l.sale_order_id == o and l.kind == "charge")
            st_line = charges.statement_line_id
            self.assertEqual(len(st_line), 1)
            self.assertAlmostEqual(st_line.amount, order.invoice_ids.amount_total, places=2)
            self.assertEqual(len(st_line.move_id.line_ids), 2, "the bank and the payment")
        # the orders' commissions, fees and withheld tax: one statement line per account
        for kind, account in (("commission", self.seller._settlement_account("commission")),
                              ("fee", self.seller._settlement_account("fee")),
                              ("withheld_tax", self._clearing())):
            amounts = settlement.line_ids.filtered(lambda l, k=kind: l.kind == k and l.sale_order_id)
            self.assertTrue(amounts, kind)
            self.assertEqual(amounts.account_id, account, kind)
            st_line = amounts.statement_line_id
            self.assertEqual(len(st_line), 1, "%s booked together" % kind)
            self.assertAlmostEqual(st_line.amount, sum(amounts.mapped("amount")), places=2)
            counterpart = st_line.move_id.line_ids - st_line.move_id.line_ids.filtered(
                lambda l: l.account_id == self.seller.settlement_journal_id.default_account_id)
            self.assertEqual(counterpart.account_id, account, kind)
        # the form's buttons open the statement and its lines in views of their own (Odoo 17
        # Community has no form of a statement and no views of its lines)
        statement_form = settlement.action_open_statement()
        views = self.env["account.bank.statement"].get_views(statement_form["views"])["views"]
        self.assertIn('name="balance_end_real"', views["form"]["arch"])
        self.assertIn('name="payment_ref"', views["form"]["arch"], "its lines, with their label")
        lines_action = settlement.action_open_statement_lines()
        views = self.env["account.bank.statement.line"].get_views(lines_action["views"])["views"]
        self.assertIn('name="is_reconciled"', views["tree"]["arch"])
        self.assertIn('name="matching_number"', views["form"]["arch"], "its journal items")
        self.assertEqual(self.env["account.bank.statement.line"].search_count(lines_action["domain"]),
                         len(settlement.statement_id.line_ids))
        # Amazon > Accounting > Settlement Amounts: its amounts by kind, month, SKU ...
        action = self.env.ref("amazon_fbm_connector.action_amazon_settlement_line")
        Line = self.env["amazon.settlement.line"]
        views = Line.get_views([(False, "pivot"), (False, "graph"), (False, "tree"),
                                (action.search_view_id.id, "search")])["views"]
        self.assertIn('name="kind"', views["pivot"]["arch"])
        self.assertIn('name="commissions_fees"', views["search"]["arch"])
        totals = dict(Line._read_group([("settlement_id", "=", settlement.id)], ["kind"],
                                       ["amount:sum"]))
        self.assertAlmostEqual(totals["commission"], settlement.amount_commissions, places=2)
        self.assertAlmostEqual(totals["fee"], settlement.amount_fees, places=2)

    def test_match_again_once_the_order_is_in_odoo(self):
        """An order Amazon settled before Odoo had it waits on the suspense account; once it
        is imported, invoiced and paid, Match Again reconciles its statement line: the bank
        line stays, the suspense line becomes its payment, commission, fee and withheld tax."""
        late = self.add_us_order(status="Shipped", purchase_date=self.now - timedelta(days=4))
        paid = self._orders(1)
        self.emulator.add_settlement([late] + paid)
        settlement = self._import()
        self.assertEqual(settlement.state, "to_check")
        self.assertEqual(set(settlement.unmatched_line_ids.mapped("amazon_order_ref")), {late})
        st_line = settlement.unmatched_line_ids.statement_line_id
        self.assertEqual(len(st_line), 1)
        bank_amount = st_line.amount
        suspense = self.journal.suspense_account_id

        settlement.action_match_again()
        self._import()
        self.assertEqual(settlement.stage, "done")
        self.assertEqual(settlement.state, "to_check", "still not in Odoo: nothing changes")
        self.assertAlmostEqual(self._balance(suspense, st_line.move_id), -bank_amount, places=2)

        self.build([late], shipped=True)
        settlement.action_match_again()
        self.assertEqual(settlement.stage, "match")
        self._import()
        settlement.invalidate_recordset()
        self.assertEqual(settlement.stage, "done")
        self.assertEqual(settlement.state, "reconciled", settlement.message)
        self.assertFalse(settlement.unmatched_line_ids)
        self.assertAlmostEqual(st_line.amount, bank_amount, places=2, msg="Amazon's money stays")
        self.assertTrue(st_line.is_reconciled)
        self.assertAlmostEqual(self._balance(suspense, st_line.move_id), 0.0, places=2)
        order = self.orders_of([late])
        self.assertEqual(order.invoice_ids.payment_state, "paid")
        self.assertTrue(order.invoice_ids._get_reconciled_payments().is_matched)
        amounts = settlement.line_ids.filtered(lambda l: l.amazon_order_ref == late)
        self.assertEqual(set(amounts.mapped("state")), {"matched"})
        self.assertEqual(amounts.sale_order_id, order)
        commissions = amounts.filtered(lambda l: l.kind == "commission")
        self.assertAlmostEqual(
            self._balance(self.seller._settlement_account("commission"), st_line.move_id),
            -sum(commissions.mapped("amount")), places=2)
        clearing = self._clearing()
        self.assertAlmostEqual(self._balance(clearing, order.invoice_ids | st_line.move_id), 0.0,
                               places=2)
        self.assertTrue(settlement.statement_id.is_complete)

    def test_match_again_once_the_invoice_is_posted(self):
        """An invoice still in draft when Amazon settled its order (held for a person): the
        buyer's amounts and the withheld tax wait on suspense, the fees are booked; once the
        invoice is posted, Match Again pays it with Amazon's money."""
        ref = self.add_us_order(status="Shipped", purchase_date=self.now - timedelta(days=4))
        saved = self.seller.workflow_id
        self.seller.workflow_id = self.env["amazon.sale.workflow"].create({
            "name": "Invoice in draft", "confirm_order": True, "create_invoice": True})
        self.build([ref], shipped=True)
        self.seller.workflow_id = saved
        invoice = self.orders_of([ref]).invoice_ids
        self.assertEqual(invoice.state, "draft")
        self.emulator.add_settlement([ref])
        settlement = self._import()
        unmatched = settlement.unmatched_line_ids
        self.assertEqual(set(unmatched.mapped("kind")), {"charge", "withheld_tax"})
        self.assertTrue(all("No posted invoice" in reason for reason in unmatched.mapped("reason")))
        self.assertEqual(len(settlement.line_ids.filtered(
            lambda l: l.kind == "commission").statement_line_id), 1, "the fees are booked")

        invoice.action_post()
        settlement.action_match_again()
        self._import()
        settlement.invalidate_recordset()
        self.assertEqual(settlement.state, "reconciled", settlement.message)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertFalse(any(settlement.line_ids.mapped("reason")), "no reason left")
        clearing = self._clearing()
        self.assertAlmostEqual(self._balance(clearing, invoice | unmatched.statement_line_id.move_id),
                               0.0, places=2)

    def test_matched_again_by_themselves(self):
        """Without the button: the cron looks at the invoices posted or changed since its
        last look. A settlement holding one of their orders on suspense goes to To Match
        Again and is matched in that run; an order that never comes sets nothing going."""
        late = self.add_us_order(status="Shipped", purchase_date=self.now - timedelta(days=4))
        never = self.add_us_order(status="Shipped", purchase_date=self.now - timedelta(days=4))
        paid = self._orders(1)
        self.emulator.add_settlement([late, never] + paid)
        settlement = self._import()
        self.assertEqual(set(settlement.unmatched_line_ids.mapped("amazon_order_ref")),
                         {late, never})
        self.assertFalse(self.seller.settlement_match_cursor,
                         "no look while one of the seller's settlements is being booked")
        messages = len(settlement.message_ids)

        # nothing changed: the settlement is not looked at again
        self._import()
        self.assertTrue(self.seller.settlement_match_cursor, "looked once nothing is booking")
        self.assertEqual(settlement.stage, "done")
        self.assertEqual(len(settlement.message_ids), messages, "no pass of Match Again")

        # the late order comes, its invoice is posted and paid: the next run matches it
        self.build([late], shipped=True)
        self._import()
        settlement.invalidate_recordset()
        self.assertEqual(settlement.stage, "done")
        self.assertEqual(set(settlement.unmatched_line_ids.mapped("amazon_order_ref")), {never})
        self.assertEqual(settlement.state, "to_check", "the order never imported still waits")
        self.assertTrue(any("Matched again: 1 " in m.body for m in settlement.message_ids))
        st_line = settlement.line_ids.filtered(lambda l: l.amazon_order_ref == late
                                               and l.kind == "charge").statement_line_id
        self.assertTrue(st_line.is_reconciled)
        self.assertEqual(self.orders_of([late]).invoice_ids.payment_state, "paid")

        # its invoice is looked at again within the overlap, but nothing is left to match
        self.assertEqual(self.seller._settlement_look_again(), 0)

    def test_more_than_the_invoice_waits_on_suspense(self):
        """Amazon settling an order for more than its open invoice: the invoice is paid,
        the excess is not forced anywhere."""
        refs = self._orders(1, paid=False)
        self.emulator.add_settlement(refs, extra=[("Order", "ItemPrice", "Principal", "5.00")])
        # the extra row has no order id: an amount of an order that Amazon did not name
        settlement = self._import()
        self.assertEqual(self.orders_of(refs).invoice_ids.payment_state, "paid")
        self.assertEqual(settlement.state, "to_check")
        self.assertEqual(settlement.unmatched_count, 1)

    def test_next_settlement_and_a_damaged_document(self):
        """A later settlement is listed after the cursor; a document that arrives damaged
        every time is recorded on its settlement, and Retry books it once it reads."""
        first = self._orders(1)
        self.emulator.add_settlement(first)
        self.assertEqual(self._import().state, "reconciled")
        second = self._orders(1)
        self.emulator.faults["truncate_downloads"] = 3      # every download of the next run
        self.emulator.add_settlement(second)
        settlements = self._import()
        self.assertEqual(len(settlements), 2)
        failed = settlements.filtered(lambda s: s.stage == "failed")
        self.assertEqual(len(failed), 1)
        self.assertEqual(failed.state, "to_check")
        self.assertIn("damaged", failed.message)
        payment = self.orders_of(second).invoice_ids._get_reconciled_payments()
        self.assertFalse(payment.is_matched, "not settled yet: Amazon's money is not matched")
        failed.action_retry()
        settlements = self._import()
        self.assertEqual(len(settlements), 2)
        self.assertEqual(set(settlements.mapped("state")), {"reconciled"})
        self.assertTrue(payment.is_matched)

    def test_entries_numbered_as_odoo_numbers_them(self):
        """The batch's entry numbers are read once: the journal's next numbers, without gaps
        or duplicates. When a number was taken meanwhile (an entry another worker posted
        after the numbers were read), the batch is created again with Odoo numbering each
        entry: the same books, no duplicate number."""
        refs = self._orders(2)
        self.emulator.add_settlement(refs, fees=[("Subscription Fee", "-39.99")])
        settlement = self._import()
        self.assertEqual(settlement.state, "reconciled", settlement.message)
        moves = settlement.line_ids.statement_line_id.move_id | settlement.statement_id.line_ids.move_id
        self.assertEqual(len(set(moves.mapped("name"))), len(moves), "one number each")
        seqs = sorted(moves.mapped("sequence_number"))
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + len(seqs))), "no gap")

        more = self._orders(2)
        self.emulator.add_settlement(more)
        taken = moves.sorted("sequence_number")[-1].name    # a number already posted
        real = SettlementBooking._next_names
        with patch.object(SettlementBooking, "_next_names",
                          lambda booking, date, count: [taken] + real(booking, date, count)[1:]), \
                mute_logger("odoo.sql_db"):    # the duplicate number PostgreSQL refuses
            settlements = self._import()
        second = settlements - settlement
        self.assertEqual(second.state, "reconciled", second.message)
        journal_moves = self.env["account.move"].search([("journal_id", "=", self.journal.id),
                                                         ("state", "=", "posted")])
        self.assertEqual(len(set(journal_moves.mapped("name"))), len(journal_moves), "no duplicate")
        for ref in more:
            payment = self.orders_of([ref]).invoice_ids._get_reconciled_payments()
            self.assertTrue(payment.is_matched, "settled despite the taken number")

    def test_foreign_currency_settlement_is_not_forced(self):
        """An Amazon.de settlement (EUR) for a company and journal in USD: stored, listed,
        and not booked at some rate; the settlement says what to set up."""
        ref = self.scenario.add_order(marketplace_id="A1PA6795UKMFR9", status="Shipped", items=[
            {"sku": "SKU-EU", "qty": 1, "price": "11.90", "tax": "1.90"}])
        self.emulator.add_settlement([ref], marketplace_id="A1PA6795UKMFR9")
        settlement = self._import()
        self.assertEqual(settlement.currency_id.name, "EUR")
        self.assertEqual(settlement.state, "to_check")
        self.assertIn("EUR", settlement.message)
        self.assertFalse(settlement.statement_id)
        self.assertFalse(settlement.line_ids.statement_line_id)
        self.assertEqual(settlement.stage, "failed", "Retry books it once the journal is set")

    def test_dashboard_shows_the_last_payout(self):
        refs = self._orders(1)
        _report_id, builder = self.emulator.add_settlement(refs, unknown_orders=[UNKNOWN_ORDER])
        self.assertEqual(self.mp_us.dashboard_last_payout, "none yet")
        self._import()
        self.mp_us.invalidate_recordset()
        self.assertIn("%.2f" % builder.total, self.mp_us.dashboard_last_payout.replace(",", ""))
        self.assertEqual(self.mp_us.dashboard_settlement_check_count, 1)
        action = self.mp_us.action_dashboard_settlements()
        self.assertEqual(self.env["amazon.settlement"].search(action["domain"]).state, "to_check")


@tagged("post_install", "-at_install")
class TestSettlementConcurrency(AmazonCase):
    """Two cron workers (two servers) import the same settlements at the same instant,
    on real cursors and commits: one settlement, one statement, each document downloaded
    once. Committed rows stay in the throw-away test database."""
    real_cursors = True

    def test_two_workers_import_once(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            seller = env["amazon.seller"].create({
                "name": "Settlement race seller", "lwa_client_id": self.seller.lwa_client_id,
                "lwa_client_secret": self.seller.lwa_client_secret,
                "refresh_token": self.seller.refresh_token, "api_endpoint": self.emulator.url,
                "lwa_endpoint": self.emulator.url})
            env["amazon.marketplace"].create({
                "seller_id": seller.id,
                "reference_id": env.ref("amazon_fbm_connector.marketplace_us").id,
                "warehouse_id": self.warehouse.id})
            cr.commit()  # pylint: disable=invalid-commit
            seller_id = seller.id
        # Amazon settles orders this database does not have, a fee and a reserve
        for n in range(2):
            self.emulator.add_settlement(
                unknown_orders=["999-0000000-00000%02d" % (n * 10 + k) for k in range(3)],
                fees=[("Subscription Fee", "-39.99")], reserve_current="-10.00")
        RateLimiter.reset()
        with self.registry.cursor() as cr:   # the scheduler listed them: two to download
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            self.assertEqual(env["amazon.seller"].browse(seller_id)._settlement_list(), 2)
            cr.commit()  # pylint: disable=invalid-commit
        booked_by = {}
        original = SettlementBooking.book_next

        def book_slowly(booking, *args, **kwargs):
            # a booking batch that takes a moment: the other worker meets it under way
            booked_by.setdefault(booking.settlement.id, set()).add(threading.current_thread().name)
            time.sleep(0.5)
            return original(booking, *args, **kwargs)

        errors = []
        sellers = lambda model: model.browse(seller_id)  # noqa: E731  (this test's seller only)
        with patch.object(SettlementBooking, "book_next", book_slowly), \
                patch.object(type(self.env["amazon.seller"]), "_settlement_sellers", sellers):
            run_in_threads({name: partial(cron_worker, self.registry, "amazon.settlement",
                                          "_cron_import_settlements", errors)
                            for name in ("server-1", "server-2")})
        self.assertFalse(errors, errors)
        self.assertEqual(len(booked_by), 2)
        self.assertTrue(all(len(names) == 1 for names in booked_by.values()),
                        "a settlement is booked by one worker: %s" % booked_by)
        self.assertEqual(set().union(*booked_by.values()), {"server-1", "server-2"},
                         "the two workers booked at the same time, one settlement each")
        self.assertEqual(self.emulator.calls["getReportDocument"], 2, "each document once")
        self.assertLessEqual(self.emulator.calls["getReports"], 3, "listed before, then once a worker at most")
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            settlements = env["amazon.settlement"].search([("seller_id", "=", seller_id)])
            self.assertEqual(len(settlements), 2)
            self.assertEqual(set(settlements.mapped("stage")), {"done"})
            for settlement in settlements:
                # 3 unknown orders, the fee, the reserve, the payout: once each
                self.assertEqual(len(settlement.statement_id.line_ids), 6)
                self.assertTrue(settlement.statement_id.is_complete)
            self.assertEqual(len(settlements.statement_id), 2)
            journal = env["amazon.seller"].browse(seller_id).settlement_journal_id
            self.assertEqual(env["account.journal"].search_count(
                [("name", "like", "Settlement race seller")]), 1, "one settlement journal")
            self.assertEqual(env["account.bank.statement.line"].search_count(
                [("journal_id", "=", journal.id)]), 12)
