from odoo import fields, models

from ..services.settlement_parser import KINDS

KIND_LABELS = {
    "charge": "Buyer's amount", "commission": "Commission", "fee": "Fee",
    "withheld_tax": "Tax withheld by Amazon", "reserve": "Reserve", "unknown": "Unknown",
}


class AmazonSettlementLine(models.Model):
    """One amount of Amazon's settlement report (one row of the document): what it is,
    which Odoo order and invoice it belongs to, where it was booked, and, when it could
    not be matched, why."""

    _name = "amazon.settlement.line"
    _description = "Amazon Settlement Amount"
    _order = "settlement_id, line_no"

    # === FIELDS ===
    settlement_id = fields.Many2one("amazon.settlement", required=True, ondelete="cascade",
                                    index=True)
    company_id = fields.Many2one(related="settlement_id.company_id", store=True)
    currency_id = fields.Many2one(related="settlement_id.currency_id")
    line_no = fields.Integer("Line", help="The line of Amazon's document.")
    group_key = fields.Char(help="The statement line this amount goes to.")
    transaction_type = fields.Char(help="Amazon's transaction-type (Order, Refund, "
                                        "other-transaction ...).")
    amazon_order_ref = fields.Char("Amazon Order ID", index=True)
    adjustment_ref = fields.Char("Adjustment ID")
    amount_type = fields.Char(help="Amazon's amount-type (ItemPrice, ItemFees, ...).")
    amount_description = fields.Char(help="Amazon's amount-description (Principal, Commission, "
                                          "Subscription Fee ...).")
    # a Float shown in the settlement's currency (views: widget monetary): storing the
    # amounts of a 100,000-line settlement rounds nothing again by a currency read per line
    # (Amazon's amounts have its 2 decimals)
    amount = fields.Float()
    kind = fields.Selection([(k, KIND_LABELS[k]) for k in KINDS], required=True, default="unknown")
    posted_date = fields.Date()
    sku = fields.Char("SKU")
    quantity = fields.Integer()
    sale_order_id = fields.Many2one("sale.order", index="btree_not_null")
    move_id = fields.Many2one("account.move", string="Invoice / Credit Note",
                              index="btree_not_null")
    statement_line_id = fields.Many2one("account.bank.statement.line", index="btree_not_null")
    account_id = fields.Many2one("account.account", string="Account",
                                 help="The account this amount is booked on. The commissions, "
                                      "fees and withheld tax of the orders Odoo has are booked "
                                      "together, on one statement line per account.")
    state = fields.Selection([("pending", "To Book"), ("matched", "Matched"),
                              ("unmatched", "Not Matched")], default="pending", required=True)
    reason = fields.Char(help="Why this amount was not matched; it waits on the statement's "
                              "suspense account for a person.")
