from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class AmazonSaleWorkflow(models.Model):
    """What happens to an imported order: confirm, invoice, post, pay."""

    _name = "amazon.sale.workflow"
    _description = "Amazon Auto Sales Workflow"

    name = fields.Char(required=True, translate=True,
                       help="A name that says what the workflow does, e.g. 'Confirm and invoice'.")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company,
                                 help="The company whose sellers may use this workflow "
                                      "(empty: every company).")
    confirm_order = fields.Boolean(default=True,
                                   help="Confirm each imported order: Odoo reserves the stock and "
                                        "creates its delivery.")
    create_invoice = fields.Boolean(help="Create the customer invoice of each confirmed order.")
    validate_invoice = fields.Boolean(string="Post Invoice",
                                      help="Post the invoice, so it is booked in your accounting.")
    register_payment = fields.Boolean(help="Mark the invoice paid: Amazon collected the money "
                                           "and pays it out to you.")
    payment_journal_id = fields.Many2one(
        "account.journal", domain="[('type', 'in', ('bank', 'cash'))]",
        help="Journal of the payment registered for Amazon's settlement.")
    invoice_date_is_order_date = fields.Boolean(
        help="Date the invoice on the Amazon purchase date instead of today.")

    @api.constrains("confirm_order", "create_invoice", "validate_invoice", "register_payment",
                    "payment_journal_id")
    def _check_steps(self):
        for wf in self:
            if wf.create_invoice and not wf.confirm_order:
                raise ValidationError(_("An invoice needs a confirmed order: tick Confirm Order."))
            if wf.validate_invoice and not wf.create_invoice:
                raise ValidationError(_("Posting needs an invoice: tick Create Invoice."))
            if wf.register_payment and not (wf.validate_invoice and wf.payment_journal_id):
                raise ValidationError(_("A payment needs a posted invoice and a payment journal."))
