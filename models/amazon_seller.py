import logging
import time
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import config

from ..services import errors
from ..services import runner as runner_mod
from ..services.const import (
    CURSOR_OVERLAP_MINUTES,
    FBM_FLOWS,
    FLOW_UNSHIPPED,
    LWA_ENDPOINT,
    ORDERS_API_2026,
    ORDERS_API_DEFAULT,
    ORDERS_API_V0,
    REGION_API_ENDPOINTS,
)
from ..services.secret_box import SecretBox, key_from_config
from ..services.spapi_client import SpApiClient

_logger = logging.getLogger(__name__)
MANAGER = "amazon_fbm_connector.group_amazon_manager"
# A click that waits for Amazon (Test Connection): answered within 15 s, even when
# Amazon answers 503 or does not answer at all.
INTERACTIVE_SECONDS = 12
INTERACTIVE_TIMEOUT = 4.0
INTERACTIVE_RETRIES = 2
INTERACTIVE_BACKOFF = 1.0
SCHEDULER_CRON = "amazon_fbm_connector.ir_cron_amazon_fbm_scheduler"
INTERVALS = [("minutes", "Minutes"), ("hours", "Hours"), ("days", "Days")]


def _secret_box():
    return SecretBox(key_from_config(config.get("amazon_fbm_secret_key"), config["data_dir"]))


class AmazonSeller(models.Model):
    _name = "amazon.seller"
    _description = "Amazon Seller Account"
    _inherit = ["mail.thread"]

    name = fields.Char(required=True, tracking=True,
                       help="Your name for this Amazon seller account, e.g. 'My US store'.")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company,
                                 help="The Odoo company that receives this seller's orders.")
    region = fields.Selection([("na", "North America"), ("eu", "Europe"), ("fe", "Far East")],
                              required=True, default="na", tracking=True,
                              help="The Amazon region of the seller's marketplaces; it decides "
                                   "which Amazon server Odoo talks to.")
    merchant_id = fields.Char("Merchant (Seller) ID", tracking=True,
                              help="Your Merchant Token, shown in Seller Central under "
                                   "Settings > Account Info > Merchant Token.")
    lwa_client_id = fields.Char("LWA Client ID", tracking=True,
                                help="The 'Client identifier' of your SP-API app "
                                     "(Seller Central > Develop Apps > View LWA credentials).")
    lwa_client_secret = fields.Char("LWA Client Secret", compute="_compute_secrets",
                                    inverse="_inverse_lwa_client_secret", groups=MANAGER,
                                    help="The 'Client secret' of your SP-API app. Amazon rotates it "
                                         "every 180 days: paste the new one here. Stored encrypted.")
    refresh_token = fields.Char(compute="_compute_secrets", inverse="_inverse_refresh_token",
                                groups=MANAGER,
                                help="The refresh token you got when you authorised the app for "
                                     "this seller account (starts with 'Atzr|'). Stored encrypted.")
    lwa_client_secret_enc = fields.Char(copy=False, groups=MANAGER)
    refresh_token_enc = fields.Char(copy=False, groups=MANAGER)
    api_endpoint = fields.Char("SP-API Endpoint", compute="_compute_endpoints", store=True,
                               readonly=False, help="Defaults from the region; any base URL "
                               "is accepted (sandbox, or an emulator on http://127.0.0.1:PORT).")
    lwa_endpoint = fields.Char("LWA Endpoint", compute="_compute_endpoints", store=True,
                               readonly=False,
                               help="Where Odoo gets access tokens (Login with Amazon). Leave the "
                                    "default unless you test against a sandbox or an emulator.")
    marketplace_ids = fields.One2many("amazon.marketplace", "seller_id",
                                      help="The Amazon marketplaces this seller sells on, and where "
                                           "their orders land in Odoo.")
    sku_mapping_ids = fields.One2many("amazon.product.mapping", "seller_id", string="SKU Mappings",
                                      help="Amazon SKUs that differ from the product's Internal "
                                           "Reference in Odoo.")
    create_product_if_missing = fields.Boolean(
        "Create Unknown Products", help="Create a product when an order brings an unknown SKU; otherwise the order is "
             "not imported and says which SKU is missing.")
    use_odoo_sequence = fields.Boolean(
        "Use Odoo's Order Numbers", help="Name imported orders with Odoo's sequence instead of prefix + Amazon order id.")
    order_prefix = fields.Char(default="AMZ-",
                               help="Imported orders are named this prefix + the Amazon order id, "
                                    "e.g. AMZ-111-1234567-1234567.")
    workflow_id = fields.Many2one("amazon.sale.workflow", string="Auto Workflow",
                                  help="What Odoo does with each imported order: confirm it, "
                                       "invoice it, post the invoice, register the payment.")
    import_days = fields.Integer(
        "Look Back (Days)", default=30,
        help="How many days back the imports look by default: the dates the Operations wizard "
             "proposes for every operation, the scheduled unshipped report, and the first "
             "scheduled run of the shipped and missing-unshipped imports (later runs continue "
             "from where the previous one stopped).")
    shipping_product_id = fields.Many2one(
        "product.product", default=lambda self: self.env.ref(
            "amazon_fbm_connector.product_amazon_shipping", raise_if_not_found=False),
        help="The service product of the shipping line Amazon's buyer paid.")
    gift_wrap_product_id = fields.Many2one(
        "product.product", default=lambda self: self.env.ref(
            "amazon_fbm_connector.product_amazon_gift_wrap", raise_if_not_found=False),
        help="The service product of the gift wrap line.")
    discount_product_id = fields.Many2one(
        "product.product", string="Promotion Product", default=lambda self: self.env.ref(
            "amazon_fbm_connector.product_amazon_promotion", raise_if_not_found=False),
        help="The product of the discount line of Amazon promotions.")
    adjustment_product_id = fields.Many2one(
        "product.product", string="Tax/Rounding Adjustment Product", default=lambda self: self.env.ref(
            "amazon_fbm_connector.product_amazon_adjustment", raise_if_not_found=False),
        help="Carries what Odoo's per-line tax rounding cannot reproduce of the tax Amazon "
             "charged (at most a cent per order, posted on the tax account), so that untaxed "
             "amount, tax and total match Amazon to the cent. A larger difference is reported "
             "on the order.")
    orders_api_version = fields.Selection(
        [(ORDERS_API_2026, "2026-01-01"), (ORDERS_API_V0, "v0 (legacy)")], string="Orders API Version",
        required=True, default=ORDERS_API_DEFAULT,
        help="The Orders API the imports read orders with. 2026-01-01 brings items, prices, buyer "
             "and address in one call, without a Restricted Data Token. v0 stays selectable "
             "until Amazon retires its read operations (getOrders, getOrder, getOrderItems...) "
             "on 2027-03-27; after that day only 2026-01-01 works. Shipment confirmations use "
             "v0's confirmShipment either way.")
    queue_size = fields.Integer("Orders per Queue", default=50,
                                help="An import of shipped or missing orders is split into queues "
                                     "of this many orders each.")
    report_timeout_hours = fields.Float("Give Up on a Report After", default=4.0,
                                        help="A report Amazon is still preparing after this many "
                                             "hours is closed; request it again.")
    max_line_attempts = fields.Integer("Retries per Order", default=3,
                                       help="How many times the scheduler tries again an order "
                                            "that failed to import before it waits for you.")

    # FBM scheduler
    fbm_unshipped_auto = fields.Boolean(
        "Import Unshipped Orders Automatically",
        help="Ask Amazon for the Unshipped Orders report on a schedule and import it with no click.")
    fbm_unshipped_interval = fields.Integer(
        "Unshipped Import Every", default=1, help="How often the unshipped orders are imported.")
    fbm_unshipped_interval_type = fields.Selection(
        INTERVALS, string="Unshipped Import Unit", default="hours",
        help="The unit of the unshipped import's interval.")
    fbm_unshipped_next_run = fields.Datetime(
        "Next Unshipped Import", copy=False,
        help="When the scheduler asks Amazon for unshipped orders next; change it to move the run.")
    fbm_shipped_auto = fields.Boolean(
        "Import Shipped Orders Automatically",
        help="Import the orders Amazon reports as shipped on a schedule: new ones are created "
             "delivered, known ones get their delivery validated.")
    fbm_shipped_interval = fields.Integer(
        "Shipped Import Every", default=1, help="How often the shipped orders are imported.")
    fbm_shipped_interval_type = fields.Selection(
        INTERVALS, string="Shipped Import Unit", default="days",
        help="The unit of the shipped import's interval.")
    fbm_shipped_next_run = fields.Datetime(
        "Next Shipped Import", copy=False,
        help="When the scheduler imports shipped orders next; change it to move the run.")
    fbm_missing_auto = fields.Boolean(
        "Import Missing Unshipped Orders Automatically",
        help="On a schedule, look for unshipped orders the report missed and import them.")
    fbm_missing_interval = fields.Integer(
        "Missing Orders Check Every", default=6,
        help="How often the missing unshipped orders are looked for.")
    fbm_missing_interval_type = fields.Selection(
        INTERVALS, string="Missing Orders Check Unit", default="hours",
        help="The unit of the missing orders check's interval.")
    fbm_missing_next_run = fields.Datetime(
        "Next Missing Orders Check", copy=False,
        help="When the scheduler looks for missing unshipped orders next; change it to move the run.")
    fbm_shipped_cursor = fields.Datetime(
        "Shipped Orders Synced Until", copy=False, readonly=True,
        help="The scheduled shipped import lists the orders Amazon updated since this time "
             "(a few minutes earlier, to overlap); it moves on to the time Amazon's answer covers "
             "once the orders found are queued. Empty: the next run looks back Import Days.")
    fbm_missing_cursor = fields.Datetime(
        "Unshipped Orders Synced Until", copy=False, readonly=True,
        help="The same for the scheduled missing-unshipped import.")

    realtime_valuation_warning = fields.Boolean(compute="_compute_realtime_valuation_warning")
    connection_state = fields.Selection(
        [("unknown", "Not Tested"), ("ok", "Connected"), ("failed", "Failed")],
        default="unknown", required=True, copy=False, readonly=True,
        help="The result of the last Test Connection.")
    connection_checked_at = fields.Datetime("Connection Tested On", copy=False, readonly=True,
                                            help="When the connection to Amazon was last tested.")

    @api.depends("region")
    def _compute_endpoints(self):
        for seller in self:
            if not seller.api_endpoint or seller.api_endpoint in REGION_API_ENDPOINTS.values():
                seller.api_endpoint = REGION_API_ENDPOINTS.get(seller.region or "na")
            if not seller.lwa_endpoint:
                seller.lwa_endpoint = LWA_ENDPOINT

    def _compute_secrets(self):
        # Field groups guard read() and search(), not every path that reads a
        # field (export_data, record[field] in server code run for a user):
        # the plaintext is decrypted for managers and the superuser only.
        if not (self.env.su or self.env.user.has_group(MANAGER)):
            raise AccessError(_("Only Amazon managers may read a seller's client secret and "
                                "refresh token."))
        box = None
        for seller in self:
            enc = seller.sudo().lwa_client_secret_enc, seller.sudo().refresh_token_enc
            if any(enc) and box is None:
                box = _secret_box()
            seller.lwa_client_secret = box.decrypt(enc[0]) if enc[0] else False
            seller.refresh_token = box.decrypt(enc[1]) if enc[1] else False

    def export_data(self, fields_to_export):
        """Exports go through the same field rights as read()."""
        self.check_field_access_rights("read", [f.split("/")[0].split(".")[0] for f in fields_to_export])
        return super().export_data(fields_to_export)

    def _inverse_lwa_client_secret(self):
        box = _secret_box()
        for seller in self:
            seller.sudo().lwa_client_secret_enc = box.encrypt(seller.lwa_client_secret)

    def _inverse_refresh_token(self):
        box = _secret_box()
        for seller in self:
            seller.sudo().refresh_token_enc = box.encrypt(seller.refresh_token)

    def _compute_realtime_valuation_warning(self):
        realtime = bool(self.env["product.category"].sudo().search_count(
            [("property_valuation", "=", "real_time")], limit=1)) if \
            "property_valuation" in self.env["product.category"]._fields else False
        for seller in self:
            seller.realtime_valuation_warning = realtime

    # ------------------------------------------------------------------ client
    def _get_client(self, interactive=False):
        """The seller's SP-API client (secrets read with sudo, never logged).
        ``interactive``: for a click that waits for the answer (Test Connection): a
        short timeout and a few quick retries, all within ``INTERACTIVE_SECONDS``,
        instead of the backoff sized for cron work."""
        self.ensure_one()
        seller = self.sudo()
        secret, token = seller.lwa_client_secret, seller.refresh_token
        if not (seller.lwa_client_id and secret and token):
            raise UserError(_("Seller %s lacks its LWA client id, client secret or refresh token.",
                              seller.name))
        params = self.env["ir.config_parameter"].sudo()
        scale = float(params.get_param("amazon_fbm_connector.rate_scale", "1") or 1)
        timeout = float(params.get_param("amazon_fbm_connector.http_timeout", "30") or 30)
        # Token buckets shared by every worker and server of this database:
        # Amazon counts the seller's calls per application, not per process.
        retry = {}
        if interactive:
            timeout = min(timeout, INTERACTIVE_TIMEOUT)
            retry = {"max_retries": INTERACTIVE_RETRIES, "backoff_cap": INTERACTIVE_BACKOFF}
        client = SpApiClient(client_id=seller.lwa_client_id, client_secret=secret,
                             refresh_token=token, api_endpoint=seller.api_endpoint,
                             lwa_endpoint=seller.lwa_endpoint, rate_scale=scale, timeout=timeout,
                             bucket_store=self.env["amazon.rate.bucket"]._store(),
                             orders_api_version=seller.orders_api_version or ORDERS_API_DEFAULT,
                             **retry)
        if interactive:
            client.deadline = time.time() + INTERACTIVE_SECONDS
        return client

    def action_test_connection(self):
        self.ensure_one()
        try:
            marketplaces = self._get_client(interactive=True).test_connection()
        except errors.AmazonError as exc:
            if isinstance(exc, errors.AmazonOutOfTime):
                exc = _("Amazon did not answer within %s seconds (it may be busy or unreachable from "
                        "this server). Try again in a minute; the scheduled imports retry on their "
                        "own.", INTERACTIVE_SECONDS)
            self.sudo().message_post(subtype_xmlid="mail.mt_note", body=_("Connection test failed: %s", str(exc)))
            self.sudo().write({"connection_state": "failed", "connection_checked_at": fields.Datetime.now()})
            # A notification, not an error: the failed state and the note are kept.
            return {"type": "ir.actions.client", "tag": "display_notification",
                    "params": {"title": _("Amazon"), "type": "danger", "sticky": True,
                               "message": _("Connection test failed: %s", str(exc)),
                               "next": {"type": "ir.actions.client", "tag": "soft_reload"}}}
        self.sudo().write({"connection_state": "ok", "connection_checked_at": fields.Datetime.now()})
        known = set(self.marketplace_ids.mapped("amazon_marketplace_id"))
        missing = [m for m in marketplaces if m not in known]
        message = _("Connected to Amazon. The seller participates in %(count)s marketplace(s).",
                    count=len(marketplaces))
        if missing:
            message += " " + _("Not configured here yet: %s.", ", ".join(missing))
        # Marketplaces configured here that Amazon does not list for the seller.
        not_selling = self.with_context(active_test=False).marketplace_ids._amazon_note_participation(
            marketplaces).filtered("active")
        if not_selling:
            message += " " + _("Amazon does not list the seller on %s: archive these marketplaces "
                               "or register for them in Seller Central.",
                               ", ".join(not_selling.mapped("name")))
        self.sudo().message_post(subtype_xmlid="mail.mt_note", body=message)
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": _("Amazon"), "message": message,
                           "type": "warning" if not_selling else "success",
                           "sticky": bool(not_selling)}}

    def _interval(self, number, kind):
        return timedelta(**{kind: max(number or 1, 1)})

    @api.model
    def _cron_fbm_scheduler(self):
        """Dispatcher of the per-seller FBM schedules (one cron for every seller)."""
        runner = runner_mod.Runner(self.env, cron=SCHEDULER_CRON)
        now = fields.Datetime.now()
        for seller in self.search(["|", "|", ("fbm_unshipped_auto", "=", True), ("fbm_shipped_auto", "=", True),
                                    ("fbm_missing_auto", "=", True)]):
            for flow in FBM_FLOWS:
                if not seller[flow.auto]:
                    continue
                due = seller[flow.next_run]
                if due and due > now:
                    continue
                if runner.out_of_time():
                    runner.trigger()
                    return
                seller[flow.next_run] = now + seller._interval(seller[flow.interval], seller[flow.interval_type])
                runner.commit()
                try:
                    seller._scheduled_import(runner, flow)
                except (errors.AmazonError, UserError) as exc:
                    runner.rollback()
                    runner.run_batch(seller.sudo().message_post, subtype_xmlid="mail.mt_note", body=_(
                        "Scheduled %(flow)s import failed: %(err)s", flow=flow.flow, err=str(exc)))
                runner.commit()

    def _scheduled_import(self, runner, flow):
        """One scheduled run of ``flow`` (``const.FbmFlow``): the unshipped report is
        requested; shipped and missing orders are listed from the flow's cursor."""
        if flow.flow == FLOW_UNSHIPPED:
            self.env["amazon.report.request"]._request_unshipped(self, self.marketplace_ids)
        else:
            self._scheduled_queue_import(runner, flow.flow, flow.cursor)

    def _scheduled_queue_import(self, runner, flow, cursor_field):
        """Queue the orders Amazon updated since the stored cursor (minus an overlap).
        The listing (``amazon.order.listing``) reads and commits one page at a time
        and stops before Odoo's time limit; the listing cron, or the next scheduled
        run, continues it. The cursor moves to the end Amazon's answer covers only
        once the listing is complete: a crash in between lists the same orders
        again, and the queues skip those they hold already."""
        Listing = self.env["amazon.order.listing"]
        listing = Listing.search([("seller_id", "=", self.id), ("flow", "=", flow),
                                  ("origin", "=", "scheduled"), ("state", "=", "running")],
                                 order="id", limit=1)
        if not listing:
            cursor = self[cursor_field]
            if cursor:
                since = cursor - timedelta(minutes=CURSOR_OVERLAP_MINUTES)
            else:
                since = fields.Datetime.now() - timedelta(days=self.import_days or 30)
            listing = Listing._start(self, self.marketplace_ids, flow, since=since,
                                     cursor_field=cursor_field)
        runner.commit()
        listing._run(runner)
