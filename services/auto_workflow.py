"""The auto workflow: confirm, invoice, post, pay -- batched, failure-isolated.

All steps run on the whole recordset inside one savepoint (one flush for
the batch, as Odoo's own bulk calls would do). When that fails, the steps
run again each inside its own savepoint; a step that fails for the batch
runs order by order, so that one bad order gets its message
(``amazon_workflow_message``) and the others go on. A failed step never
undoes the order itself. An order with a tax problem (its taxes could not
reproduce Amazon's) keeps its invoice in draft for a person to check. A
concurrency error (another worker) is not an order's failure: it goes up to the
runner, which runs the batch again on a fresh snapshot.
"""
import logging

from odoo import _, fields

from .runner import CONCURRENCY_ERRORS

_logger = logging.getLogger(__name__)


class AutoWorkflow:
    def __init__(self, workflow, force_confirm=False):
        self.workflow = workflow
        self.force_confirm = force_confirm

    def run(self, orders):
        from .order_builder import IMPORT_CONTEXT
        if not orders:
            return orders
        # Like the scheduler: the seller's manager chose these steps, so they run
        # with the rights they need (posting, payments) whoever started the import.
        orders = orders.sudo().with_context(**IMPORT_CONTEXT)
        if not (self.force_confirm or (self.workflow and self.workflow.confirm_order)):
            return orders
        try:
            with orders.env.cr.savepoint():
                return self._run(orders, isolated=False)
        except CONCURRENCY_ERRORS:
            raise   # another worker: the runner runs the whole batch again
        except Exception:  # noqa: BLE001 - find the order that breaks the batch
            _logger.info("auto workflow: batch failed, running its steps apart", exc_info=True)
        return self._run(orders.browse(orders.ids), isolated=True)

    def _run(self, orders, isolated):
        wf = self.workflow
        step = self._step if isolated else self._step_batch
        if self.force_confirm or (wf and wf.confirm_order):
            step(orders.filtered(lambda o: o.state in ("draft", "sent")), self._confirm,
                 _("Confirmation failed"))
            orders = orders.filtered(lambda o: o.state == "sale")
        else:
            return orders
        if not wf or not wf.create_invoice:
            return orders
        to_invoice = orders.filtered(lambda o: o.invoice_status == "to invoice")
        step(to_invoice, self._invoice, _("Invoicing failed"))
        if wf.validate_invoice:
            # An order whose taxes could not reproduce Amazon's keeps its invoice in
            # draft: the books only take what equals Amazon's, or what a person checked.
            held = orders.filtered("amazon_tax_problem")
            for order in held.filtered(lambda o: o.invoice_ids.filtered(lambda m: m.state == "draft")):
                order.amazon_workflow_message = _(
                    "Invoice left in draft: its taxes differ from Amazon's (see Amazon Tax Problem). "
                    "Fix the tax setup or the invoice, then post it.")
            moves = (orders - held).invoice_ids.filtered(lambda m: m.state == "draft")
            step(moves, self._post, _("Posting the invoice failed"))
            if wf.register_payment:
                moves = orders.invoice_ids.filtered(
                    lambda m: m.state == "posted" and m.payment_state in ("not_paid", "partial"))
                step(moves, self._pay, _("Registering the payment failed"))
        return orders

    @staticmethod
    def _step_batch(records, fn, _label):
        """A step inside the batch's savepoint: any failure undoes the whole workflow."""
        if records:
            fn(records)
        return True

    def _step(self, records, fn, label):
        if not records:
            return True
        env = records.env
        try:
            with env.cr.savepoint():
                fn(records)
            return True
        except CONCURRENCY_ERRORS:
            raise
        except Exception:  # noqa: BLE001 - isolate the order that breaks the batch
            _logger.info("auto workflow: batch step failed, retrying one by one", exc_info=True)
        for record in records:
            try:
                with env.cr.savepoint():
                    fn(record)
            except CONCURRENCY_ERRORS:
                raise   # not the order's fault: never a "failed" note
            except Exception as exc:  # noqa: BLE001
                order = record if record._name == "sale.order" else record.line_ids.sale_line_ids.order_id
                order.amazon_workflow_message = "%s: %s" % (label, exc)
                order.message_post(subtype_xmlid="mail.mt_note", body=order.amazon_workflow_message)
        return False

    def _confirm(self, orders):
        # Odoo dates a confirmed order "now"; an Amazon order keeps its purchase date.
        dates = {order.id: order.date_order for order in orders}
        orders._amazon_subscribe_customers()
        orders.action_confirm()
        for order in orders:
            if order.date_order != dates[order.id]:
                order.date_order = dates[order.id]

    def _invoice(self, orders):
        moves = orders._create_invoices()
        if self.workflow.invoice_date_is_order_date:
            for move in moves:
                order = move.line_ids.sale_line_ids.order_id[:1]
                if order:
                    move.invoice_date = fields.Date.to_date(order.date_order)

    def _post(self, moves):
        moves.action_post()

    def _pay(self, moves):
        wizard = moves.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=moves.ids).create({
                "journal_id": self.workflow.payment_journal_id.id,
                "group_payment": False,
            })
        wizard._create_payments()
