import gc
import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..services import runner as runner_mod
from ..services.const import REPORT_SETTLEMENT
from ..services.reports_adapter import ReportsAdapter
from ..services.settlement_booking import SettlementBooking, group_key
from ..services.settlement_parser import read_settlement

_logger = logging.getLogger(__name__)
CRON_XMLID = "amazon_fbm_connector.ir_cron_amazon_import_settlements"
# Odoo 17 Community has no form of a bank statement and no views of its lines: ours
STATEMENT_FORM = "amazon_fbm_connector.account_bank_statement_view_form_amazon"
STATEMENT_LINE_TREE = "amazon_fbm_connector.account_bank_statement_line_view_tree_amazon"
STATEMENT_LINE_FORM = "amazon_fbm_connector.account_bank_statement_line_view_form_amazon"
LINES_PER_INSERT = 5000
# booking batches between two full garbage collections (see _settlement_book)
BATCHES_PER_COLLECTION = 5
# the stages the cron works on
STAGES_TO_RUN = ("download", "book", "match")
_batches_since_collection = [0]


class AmazonSettlement(models.Model):
    """One Amazon settlement (one payout): its amounts as Amazon reported them, and the
    bank statement of the seller's settlement journal they became."""

    _name = "amazon.settlement"
    _description = "Amazon Settlement"
    _inherit = ["mail.thread"]
    _order = "date_end desc, id desc"

    # === FIELDS ===
    name = fields.Char(compute="_compute_name", store=True)
    seller_id = fields.Many2one("amazon.seller", required=True, index=True, ondelete="restrict")
    company_id = fields.Many2one(related="seller_id.company_id", store=True, index=True)
    settlement_ref = fields.Char("Settlement ID", readonly=True, copy=False,
                                 help="Amazon's settlement-id.")
    amazon_report_id = fields.Char("Report ID", readonly=True, copy=False)
    amazon_document_id = fields.Char("Document ID", readonly=True, copy=False)
    date_start = fields.Datetime("Start", readonly=True)
    date_end = fields.Datetime("End", readonly=True)
    deposit_date = fields.Datetime("Deposit Date", readonly=True,
                                   help="When Amazon pays the total to the seller's bank.")
    total_amount = fields.Monetary("Payout", readonly=True,
                                   help="Amazon's total-amount: what reaches the seller's bank.")
    currency_id = fields.Many2one("res.currency", readonly=True)
    statement_id = fields.Many2one("account.bank.statement", string="Bank Statement",
                                   readonly=True, copy=False, index="btree_not_null")
    journal_id = fields.Many2one(related="statement_id.journal_id")
    state = fields.Selection([("imported", "Imported"), ("reconciled", "Reconciled"),
                              ("to_check", "To Check")], default="imported", required=True,
                             tracking=True, index=True)
    stage = fields.Selection([("download", "To Download"), ("book", "To Book"),
                              ("match", "To Match Again"), ("done", "Done"),
                              ("failed", "Failed")], default="download",
                             required=True, index=True, readonly=True,
                             help="Where the import stands; the cron continues from here.")
    match_cursor = fields.Integer(readonly=True, copy=False,
                                  help="Matching again: the last statement line looked at.")
    message = fields.Text(readonly=True, help="What is left to check, and why.")
    line_ids = fields.One2many("amazon.settlement.line", "settlement_id", string="Amounts")
    unmatched_line_ids = fields.One2many("amazon.settlement.line", "settlement_id",
                                         string="Amounts Left to Reconcile",
                                         domain=[("state", "=", "unmatched")], readonly=True)
    line_count = fields.Integer(compute="_compute_totals")
    unmatched_count = fields.Integer("Not Matched", compute="_compute_totals")
    amount_unmatched = fields.Monetary("Left to Reconcile", compute="_compute_totals")
    amount_charges = fields.Monetary("Buyers' Amounts", compute="_compute_totals")
    amount_commissions = fields.Monetary("Commissions", compute="_compute_totals")
    amount_fees = fields.Monetary("Fees", compute="_compute_totals")
    amount_withheld = fields.Monetary("Tax Withheld", compute="_compute_totals")
    amount_reserve = fields.Monetary("Reserve", compute="_compute_totals")
    amount_unknown = fields.Monetary("Unknown Types", compute="_compute_totals")
    amount_rows = fields.Monetary("Sum of Amounts", compute="_compute_totals")

    _sql_constraints = [
        ("settlement_ref_unique", "unique(seller_id, settlement_ref)",
         "This Amazon settlement was already imported for this seller."),
        ("report_unique", "unique(seller_id, amazon_report_id)",
         "This settlement report was already imported for this seller."),
    ]

    # === COMPUTE METHODS ===
    @api.depends("settlement_ref", "amazon_report_id")
    def _compute_name(self):
        for settlement in self:
            settlement.name = _("Settlement %s", settlement.settlement_ref) if settlement.settlement_ref \
                else _("Settlement report %s", settlement.amazon_report_id or "")

    @api.depends("line_ids.amount", "line_ids.kind", "line_ids.state")
    def _compute_totals(self):
        Line = self.env["amazon.settlement.line"]
        by_kind = {(s.id, kind): (amount, count) for s, kind, amount, count in Line._read_group(
            [("settlement_id", "in", self.ids)], ["settlement_id", "kind"], ["amount:sum", "__count"])}
        unmatched = {s.id: (amount, count) for s, amount, count in Line._read_group(
            [("settlement_id", "in", self.ids), ("state", "=", "unmatched")], ["settlement_id"],
            ["amount:sum", "__count"])}
        for settlement in self:
            total = lambda kind, s=settlement: by_kind.get((s.id, kind), (0.0, 0))  # noqa: E731
            settlement.amount_charges = total("charge")[0]
            settlement.amount_commissions = total("commission")[0]
            settlement.amount_fees = total("fee")[0]
            settlement.amount_withheld = total("withheld_tax")[0]
            settlement.amount_reserve = total("reserve")[0]
            settlement.amount_unknown = total("unknown")[0]
            settlement.amount_rows = sum(v[0] for k, v in by_kind.items() if k[0] == settlement.id)
            settlement.line_count = sum(v[1] for k, v in by_kind.items() if k[0] == settlement.id)
            settlement.amount_unmatched, settlement.unmatched_count = unmatched.get(
                settlement.id, (0.0, 0))

    # === ACTION METHODS ===
    def action_open_statement(self):
        self.ensure_one()
        return {"type": "ir.actions.act_window", "res_model": "account.bank.statement",
                "res_id": self.statement_id.id, "view_mode": "form", "name": self.name,
                "views": [(self.env.ref(STATEMENT_FORM).id, "form")]}

    def action_open_statement_lines(self):
        self.ensure_one()
        return {"type": "ir.actions.act_window", "res_model": "account.bank.statement.line",
                "name": _("Statement lines of %s", self.name), "view_mode": "tree,form",
                "views": [(self.env.ref(STATEMENT_LINE_TREE).id, "tree"),
                          (self.env.ref(STATEMENT_LINE_FORM).id, "form")],
                "domain": [("statement_id", "=", self.statement_id.id)]}

    def action_match_again(self):
        """Amounts left on the suspense account because their order was not in Odoo, or its
        invoice not posted, are matched again by the cron, now that they may be."""
        todo = self.filtered(lambda s: s.stage == "done" and s.unmatched_count)
        todo.write({"stage": "match", "match_cursor": 0})
        if todo:
            runner_mod.Runner(self.env).trigger(CRON_XMLID)
        return True

    def action_retry(self):
        """A failed import starts again from its last stage at the cron's next run."""
        for settlement in self.filtered(lambda s: s.stage == "failed"):
            settlement.stage = "book" if settlement.settlement_ref else "download"
        runner_mod.Runner(self.env).trigger(CRON_XMLID)
        return True

    # === BUSINESS METHODS ===
    @api.model
    def _cron_import_settlements(self):
        """List new settlement reports per seller, download each once, book it in batches."""
        from ..services.runner import Runner
        runner = Runner(self.env, cron=CRON_XMLID)
        for seller in self.env["amazon.seller"]._settlement_sellers():
            if runner.out_of_time():
                runner.trigger()
                return True
            with runner.lock("amazon_settlement_list", seller.id) as held:
                if held:
                    runner.run_batch(seller._settlement_list, deadline=runner.stop_at,
                                     on_error=seller._settlement_list_failed)
                    # settlements whose orders Odoo now has: matched again by themselves
                    runner.run_batch(seller._settlement_look_again, deadline=runner.stop_at)
        for settlement in self.search([("stage", "in", STAGES_TO_RUN)], order="id"):
            with runner.lock("amazon_settlement", settlement.id) as held:
                if not held:
                    continue
                while settlement.exists() and settlement.stage in STAGES_TO_RUN:
                    if runner.out_of_time():
                        runner.trigger()
                        return True
                    done = runner.run_batch(settlement._settlement_step, deadline=runner.stop_at,
                                            on_error=settlement._settlement_failed)
                    # what a batch read or wrote leaves the cache: memory stays flat over
                    # the thousands of statement lines of a big settlement
                    self.env.invalidate_all()
                    if not done:    # an error was recorded: the next run tries again
                        break
        return True

    def _settlement_step(self, deadline=None):
        """Work unit: download and store the document, or book the next batch."""
        self.ensure_one()
        if self.stage == "download":
            self._settlement_download(deadline)
        elif self.stage == "book":
            self._settlement_book()
        elif self.stage == "match":
            self._settlement_match_again()
        return True

    def _settlement_download(self, deadline=None):
        client = self.seller_id._get_client()
        client.deadline = deadline
        reports = client.reports()
        document = reports.fetch(self.amazon_document_id, REPORT_SETTLEMENT)
        lines = ReportsAdapter.lines(document.raw, document.compression, document.charset)
        parsed = read_settlement(lines)
        summary = parsed.summary
        twin = self.search([("seller_id", "=", self.seller_id.id),
                            ("settlement_ref", "=", summary.settlement_id), ("id", "!=", self.id)])
        if twin:
            twin.message_post(body=_("Amazon published this settlement again (report %s): "
                                     "nothing was imported twice.", self.amazon_report_id))
            self.unlink()
            return
        currency = self.env["res.currency"].with_context(active_test=False).search(
            [("name", "=", summary.currency)], limit=1)
        if not currency:
            raise UserError(_("The settlement's currency %s is not known to Odoo.",
                              summary.currency))
        self.write({
            "settlement_ref": summary.settlement_id, "date_start": summary.date_start,
            "date_end": summary.date_end, "deposit_date": summary.deposit_date,
            "total_amount": float(summary.total_amount), "currency_id": currency.id})
        Line = self.env["amazon.settlement.line"].sudo()
        settlement_id, company_id = self.id, self.company_id.id
        batch = []
        for row in parsed.rows():
            batch.append({
                "settlement_id": settlement_id, "company_id": company_id, "line_no": row.line_no,
                "group_key": group_key(row), "transaction_type": row.transaction_type,
                "amazon_order_ref": row.order_id, "adjustment_ref": row.adjustment_id,
                "amount_type": row.amount_type, "amount_description": row.amount_description,
                "amount": float(row.amount) if row.amount is not None else 0.0,
                "kind": row.kind, "posted_date": row.posted_date, "sku": row.sku,
                "quantity": row.quantity, "reason": row.error or False,
                "state": "unmatched" if row.error else "pending"})
            if len(batch) >= LINES_PER_INSERT:
                self._settlement_insert(Line, batch)
                batch = []
        if batch:
            self._settlement_insert(Line, batch)
        self.stage = "book"

    def _settlement_insert(self, Line, batch):
        Line.create(batch)
        # keep memory flat on a 100,000-line settlement: written lines leave the cache
        self.env.flush_all()
        Line.invalidate_model()

    def _settlement_book(self):
        # the records and environments of past batches are cyclic garbage that Python's
        # collector frees late; Odoo looks environments up among the live ones, so a long
        # import would slow down batch after batch (2,500 statement lines: 1.7 times). A
        # full collection walks Odoo's whole heap (about 0.13 s): one every five batches
        # keeps the lookups short for about 0.03 s a batch (100,000 lines: 3 s less).
        _batches_since_collection[0] += 1
        if _batches_since_collection[0] >= BATCHES_PER_COLLECTION:
            _batches_since_collection[0] = 0
            gc.collect()
        booking = SettlementBooking(self)
        problem = booking.problem()
        if problem:
            # Retry books it once the seller's setup is fixed
            self.write({"stage": "failed", "state": "to_check", "message": problem})
            self.message_post(body=problem)
            return
        if booking.book_next():
            return
        self.statement_id = booking.close()
        self.stage = "done"
        self._settlement_check()

    def _settlement_match_again(self):
        booking = SettlementBooking(self)
        problem = booking.problem()
        if problem:
            self.write({"stage": "done", "message": problem})
            self.message_post(body=problem)
            return
        last, matched = booking.match_again_next(self.match_cursor)
        if matched:
            self.message_post(body=_("Matched again: %s statement lines now meet their orders.",
                                     matched))
        if last:
            self.match_cursor = last
            return
        self.write({"stage": "done", "match_cursor": 0})
        self._settlement_check()

    def _settlement_check(self):
        """reconciled when every amount is matched, Amazon's amounts add up to its total
        and the statement balances; else to_check, saying what is left."""
        self.ensure_one()
        self.invalidate_recordset()
        problems = []
        currency = self.currency_id
        if currency.compare_amounts(self.amount_rows, self.total_amount):
            problems.append(_("Amazon's amounts add up to %(rows)s but its total is %(total)s.",
                              rows=self.amount_rows, total=self.total_amount))
        if self.unmatched_count:
            if self.unmatched_count == 1:
                problems.append(_("One amount (%(amount)s) is not matched and waits on the "
                                  "statement's suspense account: see the Amounts tab.",
                                  amount=self.amount_unmatched))
            else:
                problems.append(_("%(count)s amounts (%(amount)s) are not matched and wait on the "
                                  "statement's suspense account: see the Amounts tab.",
                                  count=self.unmatched_count, amount=self.amount_unmatched))
        if self.statement_id and not self.statement_id.is_complete:
            problems.append(_("The bank statement does not balance."))
        self.write({"state": "to_check" if problems else "reconciled",
                    "message": "\n".join(problems) or False})
        if problems:
            self.message_post(body="\n".join(problems))

    def _settlement_failed(self, exc):
        """``Runner`` on_error: a retryable Amazon error waits for the next run; anything
        else stops the import with the message (Retry starts it again)."""
        self.ensure_one()
        if getattr(exc, "retryable", False):
            self.message = str(exc)
            return
        self.write({"stage": "failed", "state": "to_check", "message": str(exc)})
        self.message_post(body=_("Import failed: %s", exc))
