from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class AmazonSaleWorkflow(models.Model):
    """What happens to an imported order: confirm, invoice, post, pay."""

    _name = "amazon.sale.workflow"
    _description = "Amazon Auto Sales Workflow"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)
    confirm_order = fields.Boolean(default=True)
    create_invoice = fields.Boolean()
    validate_invoice = fields.Boolean(string="Post Invoice")
    register_payment = fields.Boolean()
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
