from datetime import timedelta

from odoo import _, api, fields, models

from ..services import creation_lock
from ..services.const import REPORT_SETTLEMENT, REPORTS_RETENTION_DAYS

XMLID_MODULE = "amazon_fbm_connector"
CRON_XMLID = "amazon_fbm_connector.ir_cron_amazon_import_settlements"
# Reports Amazon created up to this long before the last one seen are listed again:
# a report being created while we listed shows up next time.
CURSOR_OVERLAP = timedelta(hours=6)
# The accounts a seller's settlements are booked on, created once per company.
DEFAULT_ACCOUNTS = {
    "commission": ("amazon_settlement_commission_account_%s", "expense", "6"),
    "fee": ("amazon_settlement_fee_account_%s", "expense", "6"),
    "reserve": ("amazon_settlement_reserve_account_%s", "asset_current", "1"),
}


class AmazonSeller(models.Model):
    """A seller's settlements: the journal of the money Amazon holds, the accounts of
    Amazon's fees, and the import of Amazon's settlement reports."""

    _inherit = "amazon.seller"

    # === FIELDS ===
    settlement_journal_id = fields.Many2one(
        "account.journal", string="Settlement Journal", check_company=True,
        domain="[('type', '=', 'bank'), ('company_id', '=', company_id)]",
        help="A bank-type journal standing for the money Amazon holds for this seller. Each "
             "Amazon settlement becomes a bank statement of this journal, and the auto "
             "workflow's payments should be registered in it. Empty: 'Amazon settlement' is "
             "created at the first import.")
    settlement_commission_account_id = fields.Many2one(
        "account.account", string="Commission Account", check_company=True,
        domain="[('company_id', '=', company_id), ('deprecated', '=', False)]",
        help="Expense account of Amazon's commissions (Commission, RefundCommission). Empty: "
             "'Amazon commissions', created once per company.")
    settlement_fee_account_id = fields.Many2one(
        "account.account", string="Fee Account", check_company=True,
        domain="[('company_id', '=', company_id), ('deprecated', '=', False)]",
        help="Expense account of Amazon's other fees (closing fees, shipping holdbacks, the "
             "Subscription Fee, storage ...). Empty: 'Amazon fees', created once per company.")
    settlement_reserve_account_id = fields.Many2one(
        "account.account", string="Reserve Account", check_company=True,
        domain="[('company_id', '=', company_id), ('deprecated', '=', False)]",
        help="Current asset holding the money Amazon keeps in reserve out of a payout and "
             "releases in a later one. Empty: 'Amazon reserve', created once per company.")
    settlement_auto = fields.Boolean(
        "Import Settlements", default=True,
        help="The scheduled action 'Amazon: import settlements' imports this seller's "
             "settlement reports as Amazon publishes them (about every 14 days).")
    settlement_cursor = fields.Datetime(
        copy=False, help="Settlement reports Amazon created before this were already listed.")
    settlement_requested = fields.Boolean(copy=False)
    settlement_ids = fields.One2many("amazon.settlement", "seller_id", string="Settlements")

    # === ACTION METHODS ===
    def action_import_settlements(self):
        """Ask the cron to import this seller's settlements now; never in the request."""
        self.sudo().write({"settlement_requested": True})
        cron = self.env.ref(CRON_XMLID, raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger()
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": _("Amazon settlements"), "type": "info", "sticky": False,
                           "message": _("The settlements Amazon published are imported in the "
                                        "background in a moment: see Amazon > Accounting > "
                                        "Settlements.")}}

    # === BUSINESS METHODS ===
    def _settlement_list(self, deadline=None):
        """Work unit: list the settlement reports Amazon finished since the cursor and keep
        one settlement to download per new report (known reports are skipped)."""
        self.ensure_one()
        now = fields.Datetime.now()
        since = max(self.settlement_cursor or now - timedelta(days=REPORTS_RETENTION_DAYS),
                    now - timedelta(days=REPORTS_RETENTION_DAYS) + timedelta(minutes=5))
        client = self._get_client()
        client.deadline = deadline
        reports = client.reports().list_done(
            REPORT_SETTLEMENT, since, self.marketplace_ids.mapped("amazon_marketplace_id"))
        Settlement = self.env["amazon.settlement"].sudo()
        known = set(Settlement.with_context(active_test=False).search(
            [("seller_id", "=", self.id),
             ("amazon_report_id", "in", [r["reportId"] for r in reports])]).mapped("amazon_report_id"))
        new = [r for r in reports if r["reportId"] not in known]
        if new:
            Settlement.create([{
                "seller_id": self.id, "amazon_report_id": r["reportId"],
                "amazon_document_id": r["reportDocumentId"], "stage": "download",
            } for r in new])
        latest = max((r.get("createdTime") or "" for r in reports), default="")
        values = {"settlement_requested": False}
        if latest:
            created = fields.Datetime.to_datetime(latest[:19].replace("T", " "))
            cursor = created - CURSOR_OVERLAP
            values["settlement_cursor"] = max(self.settlement_cursor, cursor) \
                if self.settlement_cursor else cursor
        self.sudo().write(values)
        return len(new)

    def _settlement_list_failed(self, exc):
        """``Runner`` on_error of the listing: said on the seller; the next run lists again."""
        self.ensure_one()
        self.sudo().message_post(subtype_xmlid="mail.mt_note", body=_(
            "Listing Amazon's settlement reports failed: %s", exc))

    def _settlement_journal(self):
        """The settlement journal, created once ("Amazon settlement", bank type)."""
        self.ensure_one()
        if self.settlement_journal_id:
            return self.settlement_journal_id
        name = "amazon_settlement_journal_%s" % self.id
        journal = self.env.ref("%s.%s" % (XMLID_MODULE, name), raise_if_not_found=False)
        if not journal:
            creation_lock.guard_xmlids(self.env, XMLID_MODULE, [name])
            Journal = self.env["account.journal"].sudo()
            code, n = "AMZS", 1
            while Journal.with_context(active_test=False).search_count(
                    [("code", "=", code), ("company_id", "=", self.company_id.id)]):
                n += 1
                code = "AMZ%d" % n
            journal = Journal.create({
                "name": _("Amazon settlement (%s)", self.name), "type": "bank", "code": code,
                "company_id": self.company_id.id})
            self.env["ir.model.data"].sudo().create({
                "module": XMLID_MODULE, "name": name, "model": "account.journal",
                "res_id": journal.id, "noupdate": True})
        self.sudo().settlement_journal_id = journal
        workflow = self.workflow_id.sudo()
        if workflow and not workflow.payment_journal_id:
            workflow.payment_journal_id = journal
        return journal

    def _settlement_account(self, kind):
        """The seller's account for ``kind`` (commission, fee, reserve), else the default
        one of the company, created once."""
        self.ensure_one()
        own = self["settlement_%s_account_id" % kind]
        if own:
            return own
        xmlid, account_type, prefix = DEFAULT_ACCOUNTS[kind]
        label = {"commission": _("Amazon commissions"), "fee": _("Amazon fees"),
                 "reserve": _("Amazon reserve")}[kind]
        name = xmlid % self.company_id.id
        account = self.env.ref("%s.%s" % (XMLID_MODULE, name), raise_if_not_found=False)
        if not account:
            creation_lock.guard_xmlids(self.env, XMLID_MODULE, [name])
            Account = self.env["account.account"].sudo()
            code = Account._search_new_account_code(self.company_id, 6, prefix + "9999")
            account = Account.create({"name": label, "code": code,
                                      "account_type": account_type,
                                      "company_id": self.company_id.id})
            self.env["ir.model.data"].sudo().create({
                "module": XMLID_MODULE, "name": name, "model": "account.account",
                "res_id": account.id, "noupdate": True})
        return account

    @api.model
    def _settlement_sellers(self):
        """Sellers whose settlements the cron lists now."""
        return self.search(["|", ("settlement_auto", "=", True), ("settlement_requested", "=", True)])
