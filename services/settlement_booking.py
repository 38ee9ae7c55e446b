"""An Amazon settlement booked the Odoo way: a bank statement of the seller's settlement
journal (the money Amazon holds for the seller), reconciled without the accounting app.

One statement line per settled order (what its buyer paid), per refund, per amount not tied
to an order (a fee, a reserve movement), one per account for the commissions, fees and
withheld tax of the orders Odoo has (booked together at the close), and the payout to the
seller's bank. A statement line's journal entry has the liquidity line and, instead of the
suspense line, its counterparts:

* the buyer's amounts (``charge``) against the order's payment (the outstanding receipt the
  auto workflow registered) or, without one, the open invoice; a refund against its credit
  note (or the credit note's payment); each counterpart reconciled with what it matches;
* commissions and fees on the seller's expense accounts;
* tax Amazon withheld as marketplace facilitator on the marketplace's "Tax collected by
  Amazon" clearing account, which the invoice credited: the settlement clears it;
* reserve movements on the seller's reserve account; the payout on the company's internal
  transfer account, where the bank's own statement line meets it.

What cannot be matched (an order Odoo does not have, an unknown amount type, an amount of an
order without a posted invoice, more than the invoice expects) stays on the journal's
suspense account, on the statement line, for Odoo's reconciliation; each of its amounts says
why on the settlement. Nothing is forced onto an account silently.
"""
from collections import defaultdict

import psycopg2

from odoo import Command, _

from .settlement_parser import (
    KIND_CHARGE,
    KIND_COMMISSION,
    KIND_FEE,
    KIND_RESERVE,
    KIND_UNKNOWN,
    KIND_WITHHELD_TAX,
)

GROUPS_PER_BATCH = 200
ORDER_TRANSACTIONS = {"order": "out_invoice", "refund": "out_refund"}


def group_key(row):
    """The statement line an amount of the document goes to: all amounts of one order's
    Order (or Refund) transaction together; every other amount alone."""
    ttype = (row.transaction_type or "").strip().lower()
    if row.order_id and ttype in ORDER_TRANSACTIONS and row.amount is not None:
        return "%s|%s" % (ttype, row.order_id)
    return "row|%09d" % row.line_no


class SettlementBooking:
    def __init__(self, settlement):
        self.settlement = settlement
        self.env = settlement.env
        self.seller = settlement.seller_id
        self.company = self.seller.company_id
        self.currency = self.company.currency_id
        self.journal = self.seller._settlement_journal()
        self.suspense = self.journal.suspense_account_id
        self._accounts = {}
        self._clearing = {}

    # ------------------------------------------------------------ accounts
    def account(self, kind):
        if kind not in self._accounts:
            self._accounts[kind] = self.seller._settlement_account(kind)
        return self._accounts[kind]

    def clearing_account(self, marketplace):
        """Where the invoice put the tax Amazon collects (tax_resolver's clearing account)."""
        if marketplace.id not in self._clearing:
            from .tax_resolver import TaxResolver
            account = marketplace.amazon_tax_account_id
            if not account:
                account = TaxResolver(self.env, self.company)._default_clearing_account()
            self._clearing[marketplace.id] = account
        return self._clearing[marketplace.id]

    # ------------------------------------------------------------ checks
    def problem(self):
        """Why this settlement cannot be booked at all (currency), or ''."""
        journal_currency = self.journal.currency_id or self.currency
        if self.settlement.currency_id != journal_currency or journal_currency != self.currency:
            return _("The settlement is in %(cur)s, but the settlement journal %(journal)s and the "
                     "company keep %(jcur)s: set a settlement journal in %(cur)s for this seller "
                     "(settlements in a foreign currency are not booked automatically).",
                     cur=self.settlement.currency_id.name, journal=self.journal.display_name,
                     jcur=journal_currency.name)
        if not self.suspense:
            return _("The journal %s has no suspense account.", self.journal.display_name)
        return ""

    # ------------------------------------------------------------ booking
    def book_next(self, limit=GROUPS_PER_BATCH):
        """Book the next ``limit`` statement lines' worth of pending amounts. Returns how
        many groups were booked (0: nothing left)."""
        Line = self.env["amazon.settlement.line"]
        groups = Line._read_group(
            [("settlement_id", "=", self.settlement.id), ("state", "=", "pending")],
            groupby=["group_key"], aggregates=["id:recordset"], order="group_key", limit=limit)
        if not groups:
            return 0
        lines_by_group = [(key, lines.sorted("line_no")) for key, lines in groups]
        refs = {lines[0].amazon_order_ref for key, lines in lines_by_group
                if not key.startswith("row|")}
        orders = {}
        if refs:
            found = self.env["sale.order"].search([("amazon_seller_id", "=", self.seller.id),
                                                   ("amazon_order_ref", "in", list(refs))])
            orders = {o.amazon_order_ref: o for o in found}
            self._prefetch_targets(found.invoice_ids)
        plans = []
        for key, lines in lines_by_group:
            if key.startswith("row|"):
                plans.append(self._plan_row(lines))
            else:
                plans.append(self._plan_order(key.split("|", 1)[0], lines,
                                              orders.get(lines[0].amazon_order_ref)))
        self._create(plans)
        return len(plans)

    def _plan(self, lines, ref, partner=None, date=None):
        return {"lines": lines, "ref": ref, "partner": partner, "date": date,
                "counterparts": [], "updates": [], "together": [],
                "suspense": 0.0}

    def _amount(self, lines):
        return self.currency.round(sum(lines.mapped("amount")))

    def _plan_row(self, line):
        """An amount not tied to an order: fee, commission, reserve movement; or unknown."""
        plan = self._plan(line, "%s: %s" % (line.amount_type or line.transaction_type,
                                            line.amount_description))
        amount = self.currency.round(line.amount)
        if line.reason:       # unreadable amount: nothing to book
            plan["updates"].append((line, {"state": "unmatched"}))
            plan["skip"] = True
            return plan
        kind_account = {KIND_COMMISSION: "commission", KIND_FEE: "fee",
                        KIND_RESERVE: "reserve"}.get(line.kind)
        if kind_account:
            plan["counterparts"].append({"account": self.account(kind_account), "balance": -amount,
                                         "name": plan["ref"]})
            plan["updates"].append((line, {"state": "matched"}))
            return plan
        plan["suspense"] += amount
        if line.kind in (KIND_CHARGE, KIND_WITHHELD_TAX):
            reason = _("A buyer's amount or withheld tax (%(type)s / %(desc)s) in a %(trans)s "
                       "transaction without an order this connector can match: reconcile it by "
                       "hand.", type=line.amount_type or "-", desc=line.amount_description or "-",
                       trans=line.transaction_type or "-")
        else:
            reason = _("Amazon's amount type %(type)s / %(desc)s is unknown to the connector: "
                       "reconcile it by hand.", type=line.amount_type or "-",
                       desc=line.amount_description or "-")
        plan["updates"].append((line, {"state": "unmatched", "reason": reason}))
        return plan

    def _plan_order(self, ttype, lines, order, together=True):
        """The statement line of an order's (refund's) amounts. ``together``: its commissions,
        fees and withheld tax wait for the close's statement lines per account; else (when
        matching again a line already booked, whose bank amount is fixed) they are
        counterparts of its own entry."""
        ref = lines[0].amazon_order_ref
        label = _("Order %s", ref) if ttype == "order" else _("Refund %s", ref)
        plan = self._plan(lines, label)
        if not order:
            reason = _("Amazon settled order %s, which is not in Odoo: import it, or reconcile "
                       "the amount by hand.", ref)
            plan["suspense"] = self._amount(lines)
            plan["updates"] = [(line, {"state": "unmatched", "reason": reason}) for line in lines]
            return plan
        plan["partner"] = order.partner_invoice_id.commercial_partner_id
        by_kind = defaultdict(lambda: self.env["amazon.settlement.line"])
        for line in lines:
            by_kind[line.kind] |= line
        base = {"sale_order_id": order.id}
        # commissions and fees: the seller's expense accounts, booked together at the close
        names = {KIND_COMMISSION: _("%s: commission", label), KIND_FEE: _("%s: fees", label),
                 KIND_WITHHELD_TAX: _("%s: tax withheld by Amazon", label)}
        for kind in (KIND_COMMISSION, KIND_FEE):
            self._plan_account(plan, by_kind[kind], self.account(kind), names[kind], base,
                               together)
        if by_kind[KIND_UNKNOWN]:
            plan["suspense"] += self._amount(by_kind[KIND_UNKNOWN])
            for line in by_kind[KIND_UNKNOWN]:
                plan["updates"].append((line, dict(base, state="unmatched", reason=_(
                    "Amazon's amount type %(type)s / %(desc)s is unknown to the connector: "
                    "reconcile it by hand.", type=line.amount_type or "-",
                    desc=line.amount_description or "-"))))
        # the buyer's amounts: the invoice (or credit note) and its payment
        charges = by_kind[KIND_CHARGE]
        withheld = by_kind[KIND_WITHHELD_TAX]
        move_type = ORDER_TRANSACTIONS[ttype]
        moves = order.invoice_ids.filtered(lambda m: m.state == "posted" and m.move_type == move_type)
        if charges:
            amount = self._amount(charges)
            targets = self._targets(moves, 1 if amount > 0 else -1)
            left = amount
            for target in targets:
                if self.currency.is_zero(left):
                    break
                take = min(abs(left), abs(target.amount_residual)) * (1 if left > 0 else -1)
                plan["counterparts"].append({"account": target.account_id, "balance": -take,
                                             "partner": target.partner_id, "name": label,
                                             "target": target})
                left = self.currency.round(left - take)
            move = moves[:1]
            if self.currency.is_zero(left):
                plan["updates"] += [(line, dict(base, state="matched", move_id=move.id))
                                    for line in charges]
            else:
                plan["suspense"] += left
                if not moves:
                    reason = _("No posted %(doc)s for order %(ref)s: Amazon's %(amount)s waits on "
                               "the suspense account.", doc=_("invoice") if ttype == "order"
                               else _("credit note"), ref=ref, amount=amount)
                elif not targets:
                    reason = _("%(doc)s is already paid and matched: Amazon's %(amount)s waits on "
                               "the suspense account.", doc=move.name, amount=amount)
                else:
                    reason = _("Amazon settled %(amount)s for %(doc)s, which expected %(open)s: "
                               "%(left)s waits on the suspense account.", amount=amount,
                               doc=", ".join(moves.mapped("name")), open=self.currency.round(
                                   amount - left), left=left)
                plan["updates"] += [(line, dict(base, state="unmatched", move_id=move.id,
                                                reason=reason)) for line in charges]
        if withheld:
            if moves or not charges:
                self._plan_account(plan, withheld, self.clearing_account(order.amazon_marketplace_id),
                                   names[KIND_WITHHELD_TAX], base, together)
            else:
                plan["suspense"] += self._amount(withheld)
                plan["updates"] += [(line, dict(base, state="unmatched", reason=_(
                    "No posted invoice for order %s: the tax Amazon withheld waits on the "
                    "suspense account.", ref))) for line in withheld]
        if not plan["counterparts"] and self.currency.is_zero(plan["suspense"]) and all(
                values["state"] == "matched" for _line, values in plan["updates"]):
            plan["skip"] = True     # only amounts booked together: no statement line of its own
        return plan

    def _plan_account(self, plan, lines, account, name, base, together):
        """Amounts of an order matched on ``account``: booked together at the close, or a
        counterpart of the order's own entry."""
        if not lines:
            return
        updates = [(line, dict(base, state="matched", account_id=account.id)) for line in lines]
        if together:
            plan["together"] += updates
            return
        plan["counterparts"].append({"account": account, "balance": -self._amount(lines),
                                     "name": name})
        plan["updates"] += updates

    def _prefetch_targets(self, moves):
        """Read what ``_targets`` reads, for the whole batch's invoices in a few queries
        instead of a few per order: their lines, the partial reconciliations of their
        receivables, and the payments' entries and lines."""
        lines = moves.line_ids
        lines.mapped("amount_residual")
        lines.account_id.mapped("account_type")
        receivables = lines.filtered(lambda l: l.account_id.account_type == "asset_receivable")
        partials = receivables.matched_debit_ids | receivables.matched_credit_ids
        payment_moves = (partials.debit_move_id | partials.credit_move_id).move_id
        payment_moves.mapped("payment_id")
        payment_lines = payment_moves.line_ids
        payment_lines.mapped("amount_residual")
        payment_lines.mapped("reconciled")
        payment_lines.account_id.mapped("reconcile")

    def _targets(self, moves, sign):
        """Open lines that the buyer's amounts settle: the payments' outstanding lines
        first (the auto workflow paid the invoice into the settlement journal), then the
        invoices' (credit notes') own open receivable lines."""
        receivables = moves.line_ids.filtered(
            lambda l: l.account_id.account_type == "asset_receivable")
        partials = receivables.matched_debit_ids | receivables.matched_credit_ids
        payment_moves = (partials.debit_move_id | partials.credit_move_id).move_id - moves
        outstanding = payment_moves.filtered("payment_id").line_ids.filtered(
            lambda l: l.account_id.reconcile and not l.reconciled
            and l.account_id.account_type not in ("asset_receivable", "liability_payable")
            and l.amount_residual * sign > 0)
        open_lines = receivables.filtered(lambda l: not l.reconciled and l.amount_residual * sign > 0)
        return outstanding.sorted("id") + open_lines.sorted("id")

    # ------------------------------------------------------------ writing
    def _statement_lines(self):
        """Statement lines are journal entries nobody follows: no chatter message and no
        tracking for each of them (thousands in a big settlement). Odoo checks each entry's
        balance in its own query, once per entry and again per write, and syncs invoice lines
        (taxes, payment terms) an entry without taxes does not have: ``_create`` checks the
        balance of a whole batch in one query instead. The statement line and its entry are
        written consistent here (its amount, label and partner are the liquidity line's), so
        Odoo's resynchronisation of one from the other after each write is skipped too."""
        return self.env["account.bank.statement.line"].with_context(
            tracking_disable=True, mail_create_nolog=True, mail_notrack=True,
            check_move_validity=False, skip_invoice_sync=True,
            skip_account_move_synchronization=True)

    def _date(self):
        """The date of the settlement's statement lines (its end), the payout's apart."""
        settlement = self.settlement
        return (settlement.date_end or settlement.create_date).date()

    def _create(self, plans):
        settlement = self.settlement
        date = self._date()
        vals_list, booked = [], []
        for plan in plans:
            if plan.get("skip"):
                continue
            amount = self.currency.round(
                sum(-c["balance"] for c in plan["counterparts"]) + plan["suspense"])
            name = "%s %s" % (settlement.settlement_ref, plan["ref"])
            vals_list.append(self._line_vals(date, name, amount, self._counterpart_vals(plan, name),
                                             plan["partner"]))
            booked.append(plan)
        st_lines = self._create_statement_lines(vals_list, date) if vals_list else []
        st_lines = st_lines and st_lines.with_env(self.env)
        reconcile_plan = []
        for plan, st_line in zip(booked, st_lines):
            move_lines = st_line.move_id.line_ids.sorted("id")[1:]
            for cp, move_line in zip(plan["counterparts"], move_lines):
                if cp.get("target"):
                    reconcile_plan.append(move_line + cp["target"])
            plan["st_line"] = st_line
        if reconcile_plan:
            self.env["account.move.line"]._reconcile_plan(reconcile_plan)
        updates = []
        for plan in plans:
            st_line = plan.get("st_line")
            updates += [(line, dict(values, statement_line_id=st_line.id if st_line else False))
                        for line, values in plan["updates"]]
            updates += plan["together"]     # their statement line comes at the close
        self._write_amounts(updates)

    def _write_amounts(self, updates):
        """``(amount, values)`` pairs written in one write per distinct values."""
        Line = self.env["amazon.settlement.line"]
        by_values = defaultdict(lambda: Line)
        for line, values in updates:
            by_values[tuple(sorted(values.items()))] |= line
        for values, lines in by_values.items():
            lines.write(dict(values))

    # ------------------------------------------------------------ matching again
    def match_again_next(self, after=0, limit=GROUPS_PER_BATCH):
        """Match again the next ``limit`` statement lines (ids above ``after``) whose order
        amounts all wait on the suspense account: the order was not in Odoo, or its invoice
        not posted, when the settlement was booked. Where the order and its invoice (credit
        note) now are, the line's entry gets its counterparts instead of the suspense line,
        as Odoo's reconciliation does (its bank line, Amazon's money, stays), and is
        reconciled. Returns the last statement line looked at (0: none left) and how many
        were matched."""
        Line = self.env["amazon.settlement.line"]
        settlement = self.settlement
        groups = Line._read_group(
            [("settlement_id", "=", settlement.id), ("state", "=", "unmatched"),
             ("amazon_order_ref", "!=", False), ("statement_line_id", "!=", False)],
            groupby=["statement_line_id"])
        ids = sorted(st_line.id for (st_line,) in groups if st_line.id > after)[:limit]
        st_lines = self._statement_lines().browse(ids)
        if not st_lines:
            return 0, 0
        amounts = Line.search([("settlement_id", "=", settlement.id),
                               ("statement_line_id", "in", st_lines.ids)])
        by_st_line = defaultdict(lambda: Line)
        for line in amounts:
            by_st_line[line.statement_line_id.id] |= line
        found = self.env["sale.order"].search([
            ("amazon_seller_id", "=", self.seller.id),
            ("amazon_order_ref", "in", list(set(amounts.mapped("amazon_order_ref")) - {False}))])
        orders = {o.amazon_order_ref: o for o in found}
        self._prefetch_targets(found.invoice_ids)
        plans, reconcile_plan = [], []
        for st_line in st_lines:
            lines = by_st_line[st_line.id].sorted("line_no")
            keys = set(lines.mapped("group_key"))
            order = orders.get(lines[0].amazon_order_ref)
            if not order or len(keys) != 1 or lines[0].group_key.startswith("row|") or any(
                    line.state != "unmatched" for line in lines) or st_line.journal_id != self.journal:
                continue    # still not in Odoo, partly matched already, another journal: by hand
            plan = self._plan_order(lines[0].group_key.split("|", 1)[0], lines, order,
                                    together=False)
            move = st_line.move_id
            bank = move.line_ids.filtered(lambda l: l.account_id == self.journal.default_account_id)
            total = sum(-c["balance"] for c in plan["counterparts"]) + plan["suspense"]
            if not plan["counterparts"] or len(bank) != 1 or self.currency.compare_amounts(
                    bank.balance, total):
                continue    # nothing more matches yet
            partner = plan["partner"]
            before = move.line_ids
            st_line.with_context(force_delete=True).write({
                "partner_id": partner.id,
                "line_ids": [Command.update(bank.id, {"partner_id": partner.id})]
                + [Command.delete(line.id) for line in before - bank]
                + [Command.create(vals) for vals in self._counterpart_vals(
                    plan, st_line.payment_ref)]})
            created = (move.line_ids - before).sorted("id")
            reconcile_plan += [line + cp["target"] for cp, line in zip(plan["counterparts"], created)
                               if cp.get("target")]
            plans.append(plan)
        self._check_balanced(st_lines)
        if reconcile_plan:
            self.env["account.move.line"]._reconcile_plan(reconcile_plan)
        self._write_amounts([(line, dict(values, reason=values.get("reason", False)))
                             for plan in plans for line, values in plan["updates"]])
        return st_lines[-1].id, len(plans)

    def _counterpart_vals(self, plan, name):
        """The journal items of a plan's entry after its bank line: its counterparts, then
        what waits on the suspense account (also the whole amount when nothing matched)."""
        partner = plan["partner"]
        vals_list = [{
            "name": cp["name"], "account_id": cp["account"].id,
            "partner_id": (cp.get("partner") or partner or self.env["res.partner"]).id,
            "currency_id": self.currency.id, "amount_currency": cp["balance"],
            "balance": cp["balance"]} for cp in plan["counterparts"]]
        if not self.currency.is_zero(plan["suspense"]) or not plan["counterparts"]:
            vals_list.append({
                "name": name, "account_id": self.suspense.id,
                "partner_id": partner.id if partner else False,
                "currency_id": self.currency.id, "amount_currency": -plan["suspense"],
                "balance": -plan["suspense"]})
        return vals_list

    def _create_statement_lines(self, vals_list, date):
        """The statement lines, numbered as Odoo numbers them when it posts them (the
        journal's next numbers, in creation order), read once for the batch instead of
        twice per entry. The journal's row is updated (to itself), and so locked until the
        batch commits, so that two workers booking settlements of one seller number one
        after the other (every statement line of a settlement, the close's too, is created
        here): under REPEATABLE READ, a worker whose snapshot is older than the other's
        committed numbers fails to update the row (a serialization failure, which the
        runner answers with a fresh snapshot) instead of reading numbers already taken, as
        a mere row lock would let it. Should an entry posted meanwhile by someone else take
        a number (unique per journal), the batch is created again with Odoo numbering each
        entry itself."""
        self.env.cr.execute("UPDATE account_journal SET write_date = write_date WHERE id = %s",
                            [self.journal.id])
        names = self._next_names(date, len(vals_list))
        try:
            with self.env.cr.savepoint():
                st_lines = self._statement_lines().create(
                    [dict(vals, name=name) for vals, name in zip(vals_list, names)])
                self._check_balanced(st_lines)
                st_lines.flush_recordset()
                st_lines.move_id.flush_recordset()
        except psycopg2.errors.UniqueViolation:
            self.env.clear()     # what the savepoint's rollback undid leaves the cache
            st_lines = self._statement_lines().create(vals_list)
            self._check_balanced(st_lines)
        return st_lines

    def _next_names(self, date, count):
        """The journal's next ``count`` entry numbers on ``date``: Odoo's own
        ``_set_next_sequence`` (its last number in the journal and period, else the start of
        a new period), incremented."""
        move = self.env["account.move"].new({"journal_id": self.journal.id, "date": date,
                                             "move_type": "entry"})
        last = move._get_last_sequence()
        new = not last
        if new:
            last = move._get_last_sequence(relaxed=True) or move._get_starting_sequence()
        format_string, values = move._get_sequence_format_param(last)
        if new:
            date_start, date_end = move._get_sequence_date_range(
                move._deduce_sequence_number_reset(last))
            values["seq"] = 0
            values["year"] = move._truncate_year_to_length(date_start.year, values["year_length"])
            values["year_end"] = move._truncate_year_to_length(date_end.year,
                                                                values["year_end_length"])
            values["month"] = date_start.month
        names = []
        for _n in range(count):
            values["seq"] += 1
            names.append(format_string.format(**values))
        return names

    def _check_balanced(self, st_lines):
        """Odoo's own balance check of the entries, one query for them all."""
        moves = st_lines and st_lines.move_id.with_context(check_move_validity=True)
        if moves:
            with moves._check_balanced({"records": moves}):
                pass

    def close(self):
        """The payout, then the statement of every line of the settlement: Amazon's holding
        ends where it began (what is kept back is on the reserve account), so the statement
        balances when Amazon's amounts add up to its total."""
        settlement = self.settlement
        self._book_together()
        payout = self._book_payout()
        booked = self.env["amazon.settlement.line"]._read_group(
            [("settlement_id", "=", settlement.id), ("statement_line_id", "!=", False)],
            groupby=["statement_line_id"])
        st_lines = payout.browse([st_line.id for (st_line,) in booked]) | payout
        statement = self.env["account.bank.statement"].create({
            "name": _("Amazon settlement %s", settlement.settlement_ref),
            "reference": settlement.settlement_ref,
            "line_ids": [Command.set(st_lines.ids)]})
        statement.balance_end_real = statement.balance_start
        return statement

    def _book_together(self):
        """The commissions, fees and withheld tax of the orders Odoo has: one statement line
        per account and kind for the whole settlement (its amounts keep their order, on the
        settlement), instead of three more journal items in each order's entry."""
        settlement = self.settlement
        Line = self.env["amazon.settlement.line"]
        groups = Line._read_group(
            [("settlement_id", "=", settlement.id), ("state", "=", "matched"),
             ("statement_line_id", "=", False), ("account_id", "!=", False)],
            groupby=["account_id", "kind"], aggregates=["amount:sum", "id:recordset"],
            order="kind, account_id")
        labels = {KIND_COMMISSION: _("commissions on orders"), KIND_FEE: _("fees on orders"),
                  KIND_WITHHELD_TAX: _("tax withheld by Amazon on orders")}
        vals_list, booked = [], []
        for account, kind, amount, lines in groups:
            amount = self.currency.round(amount)
            if self.currency.is_zero(amount):
                continue
            vals_list.append(self._simple_line_vals(
                self._date(), "%s %s" % (settlement.settlement_ref, labels.get(kind, kind)),
                amount, account))
            booked.append(lines)
        if not vals_list:
            return
        st_lines = self._create_statement_lines(vals_list, self._date())
        for st_line, lines in zip(st_lines, booked):
            lines.write({"statement_line_id": st_line.id})

    def _line_vals(self, date, name, amount, items, partner=None):
        """A statement line of ``amount``: its bank line (the journal's account), then the
        journal items ``items`` (values) after it."""
        partner_id = partner.id if partner else False
        bank = {"name": name, "account_id": self.journal.default_account_id.id,
                "partner_id": partner_id, "currency_id": self.currency.id,
                "amount_currency": amount, "balance": amount}
        return {"journal_id": self.journal.id, "date": date, "payment_ref": name,
                "partner_id": partner_id, "amount": amount,
                "line_ids": [Command.create(vals) for vals in [bank] + items]}

    def _simple_line_vals(self, date, name, amount, account):
        """A statement line of ``amount`` with one counterpart on ``account``."""
        return self._line_vals(date, name, amount, [{
            "name": name, "account_id": account.id, "currency_id": self.currency.id,
            "amount_currency": -amount, "balance": -amount}])

    def _book_payout(self):
        """The payout leaving for the seller's bank, on the internal transfer account."""
        settlement = self.settlement
        date = (settlement.deposit_date or settlement.date_end or settlement.create_date).date()
        return self._create_statement_lines([self._simple_line_vals(
            date, _("%s payout to the bank", settlement.settlement_ref),
            -self.currency.round(settlement.total_amount),
            self.company.transfer_account_id or self.suspense)], date)
