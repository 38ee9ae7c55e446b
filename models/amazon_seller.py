import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import config

from ..services import batching, errors
from ..services.const import LWA_ENDPOINT, REGION_API_ENDPOINTS
from ..services.secret_box import SecretBox, key_from_config
from ..services.spapi_client import SpApiClient

_logger = logging.getLogger(__name__)
MANAGER = "amazon_fbm_connector.group_amazon_manager"
INTERVALS = [("minutes", "Minutes"), ("hours", "Hours"), ("days", "Days")]


def _secret_box():
    return SecretBox(key_from_config(config.get("amazon_fbm_secret_key"), config["data_dir"]))


class AmazonSeller(models.Model):
    _name = "amazon.seller"
    _description = "Amazon Seller Account"
    _inherit = ["mail.thread"]

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    region = fields.Selection([("na", "North America"), ("eu", "Europe"), ("fe", "Far East")],
                              required=True, default="na", tracking=True)
    merchant_id = fields.Char("Merchant (Seller) ID", tracking=True)
    lwa_client_id = fields.Char("LWA Client ID", tracking=True)
    lwa_client_secret = fields.Char("LWA Client Secret", compute="_compute_secrets",
                                    inverse="_inverse_lwa_client_secret", groups=MANAGER)
    refresh_token = fields.Char(compute="_compute_secrets", inverse="_inverse_refresh_token",
                                groups=MANAGER)
    lwa_client_secret_enc = fields.Char(copy=False, groups=MANAGER)
    refresh_token_enc = fields.Char(copy=False, groups=MANAGER)
    api_endpoint = fields.Char("SP-API Endpoint", compute="_compute_endpoints", store=True,
                               readonly=False, help="Defaults from the region; any base URL "
                               "is accepted (sandbox, or an emulator on http://127.0.0.1:PORT).")
    lwa_endpoint = fields.Char("LWA Endpoint", compute="_compute_endpoints", store=True,
                               readonly=False)
    marketplace_ids = fields.One2many("amazon.marketplace", "seller_id")
    sku_mapping_ids = fields.One2many("amazon.product.mapping", "seller_id", string="SKU Mappings")
    create_product_if_missing = fields.Boolean(
        help="Create a product when an order brings an unknown SKU; otherwise the order is "
             "not imported and says which SKU is missing.")
    use_odoo_sequence = fields.Boolean(
        help="Name imported orders with Odoo's sequence instead of prefix + Amazon order id.")
    order_prefix = fields.Char(default="AMZ-")
    workflow_id = fields.Many2one("amazon.sale.workflow", string="Auto Workflow")
    import_days = fields.Integer(default=30, help="How far back the unshipped import looks.")
    shipping_product_id = fields.Many2one(
        "product.product", default=lambda self: self.env.ref(
            "amazon_fbm_connector.product_amazon_shipping", raise_if_not_found=False))
    gift_wrap_product_id = fields.Many2one(
        "product.product", default=lambda self: self.env.ref(
            "amazon_fbm_connector.product_amazon_gift_wrap", raise_if_not_found=False))
    discount_product_id = fields.Many2one(
        "product.product", string="Promotion Product", default=lambda self: self.env.ref(
            "amazon_fbm_connector.product_amazon_promotion", raise_if_not_found=False))
    adjustment_product_id = fields.Many2one(
        "product.product", string="Tax/Rounding Adjustment Product", default=lambda self: self.env.ref(
            "amazon_fbm_connector.product_amazon_adjustment", raise_if_not_found=False),
        help="Carries the difference between Odoo's computed taxes and the tax Amazon charged "
             "(e.g. US marketplace facilitator tax), so totals match Amazon to the cent.")
    queue_size = fields.Integer("Orders per Queue", default=50)
    report_timeout_hours = fields.Float(default=4.0,
                                        help="A report still in progress after this is closed.")
    max_line_attempts = fields.Integer("Queue Line Retries", default=3)

    # FBM scheduler
    fbm_unshipped_auto = fields.Boolean("Import Unshipped Orders Automatically")
    fbm_unshipped_interval = fields.Integer(default=1)
    fbm_unshipped_interval_type = fields.Selection(INTERVALS, default="hours")
    fbm_unshipped_next_run = fields.Datetime(copy=False)
    fbm_shipped_auto = fields.Boolean("Import Shipped Orders Automatically")
    fbm_shipped_interval = fields.Integer(default=1)
    fbm_shipped_interval_type = fields.Selection(INTERVALS, default="days")
    fbm_shipped_next_run = fields.Datetime(copy=False)
    fbm_missing_auto = fields.Boolean("Import Missing Unshipped Orders Automatically")
    fbm_missing_interval = fields.Integer(default=6)
    fbm_missing_interval_type = fields.Selection(INTERVALS, default="hours")
    fbm_missing_next_run = fields.Datetime(copy=False)
    fbm_last_shipped_import = fields.Datetime(copy=False)

    realtime_valuation_warning = fields.Boolean(compute="_compute_realtime_valuation_warning")

    @api.depends("region")
    def _compute_endpoints(self):
        for seller in self:
            if not seller.api_endpoint or seller.api_endpoint in REGION_API_ENDPOINTS.values():
                seller.api_endpoint = REGION_API_ENDPOINTS.get(seller.region or "na")
            if not seller.lwa_endpoint:
                seller.lwa_endpoint = LWA_ENDPOINT

    def _compute_secrets(self):
        box = None
        for seller in self:
            enc = seller.sudo().lwa_client_secret_enc, seller.sudo().refresh_token_enc
            if any(enc) and box is None:
                box = _secret_box()
            seller.lwa_client_secret = box.decrypt(enc[0]) if enc[0] else False
            seller.refresh_token = box.decrypt(enc[1]) if enc[1] else False

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
    def _get_client(self):
        """The seller's SP-API client (secrets read with sudo, never logged)."""
        self.ensure_one()
        seller = self.sudo()
        secret, token = seller.lwa_client_secret, seller.refresh_token
        if not (seller.lwa_client_id and secret and token):
            raise UserError(_("Seller %s lacks its LWA client id, client secret or refresh token.",
                              seller.name))
        scale = float(self.env["ir.config_parameter"].sudo().get_param(
            "amazon_fbm_connector.rate_scale", "1") or 1)
        # Token buckets shared by every worker and server of this database:
        # Amazon counts the seller's calls per application, not per process.
        return SpApiClient(client_id=seller.lwa_client_id, client_secret=secret,
                           refresh_token=token, api_endpoint=seller.api_endpoint,
                           lwa_endpoint=seller.lwa_endpoint, rate_scale=scale, timeout=30,
                           bucket_store=self.env["amazon.rate.bucket"]._store())

    def action_test_connection(self):
        self.ensure_one()
        try:
            marketplaces = self._get_client().test_connection()
        except errors.AmazonError as exc:
            self.sudo().message_post(subtype_xmlid="mail.mt_note", body=_("Connection test failed: %s", str(exc)))
            raise UserError(_("Connection test failed: %s", str(exc))) from None
        known = set(self.marketplace_ids.mapped("amazon_marketplace_id"))
        missing = [m for m in marketplaces if m not in known]
        message = _("Connected to Amazon. The seller participates in %(count)s marketplace(s).",
                    count=len(marketplaces))
        if missing:
            message += " " + _("Not configured here yet: %s.", ", ".join(missing))
        self.sudo().message_post(subtype_xmlid="mail.mt_note", body=message)
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": _("Amazon"), "message": message, "type": "success",
                           "sticky": False}}

    def _interval(self, number, kind):
        return timedelta(**{kind: max(number or 1, 1)})

    @api.model
    def _cron_fbm_scheduler(self):
        """Dispatcher of the per-seller FBM schedules (one cron for every seller)."""
        now = fields.Datetime.now()
        for seller in self.search(["|", "|", ("fbm_unshipped_auto", "=", True), ("fbm_shipped_auto", "=", True),
                                    ("fbm_missing_auto", "=", True)]):
            for flow in ("unshipped", "shipped", "missing"):
                if not seller["fbm_%s_auto" % flow]:
                    continue
                due = seller["fbm_%s_next_run" % flow]
                if due and due > now:
                    continue
                seller["fbm_%s_next_run" % flow] = now + seller._interval(
                    seller["fbm_%s_interval" % flow], seller["fbm_%s_interval_type" % flow])
                try:
                    getattr(seller, "_scheduled_%s" % flow)()
                except (errors.AmazonError, UserError) as exc:
                    seller.sudo().message_post(subtype_xmlid="mail.mt_note", body=_("Scheduled %(flow)s import failed: %(err)s",
                                               flow=flow, err=str(exc)))
                batching.commit(seller.env)

    def _scheduled_unshipped(self):
        self.env["amazon.report.request"]._request_unshipped(self, self.marketplace_ids)

    def _scheduled_shipped(self):
        now = fields.Datetime.now()
        date_from = self.fbm_last_shipped_import or now - timedelta(days=self.import_days or 30)
        self.env["amazon.order.queue"]._import_shipped(self, self.marketplace_ids, date_from, now)
        self.fbm_last_shipped_import = now

    def _scheduled_missing(self):
        now = fields.Datetime.now()
        self.env["amazon.order.queue"]._import_missing_unshipped(
            self, self.marketplace_ids, now - timedelta(days=self.import_days or 30), now)
