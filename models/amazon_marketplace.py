from datetime import datetime, time, timedelta

import pytz

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.misc import format_datetime, formatLang

from ..services.const import FBM_FLOWS, UNSHIPPED_STATUSES

# dashboard counter -> (search filter of the FBM orders list, extra domain)
ORDER_COUNTERS = ("today", "week", "unshipped", "late", "to_confirm", "confirm_failed")
# dashboard schedule field -> (its cron, the switch that turns it on: on the seller or
# the marketplace, None: always on)
DASHBOARD_SCHEDULES = {
    "dashboard_run_status_sync": ("ir_cron_amazon_status_sync", "seller_id.fbm_status_sync_auto"),
    "dashboard_run_confirmations": ("ir_cron_amazon_confirm_shipments", None),
    "dashboard_run_stock": ("ir_cron_amazon_stock_export", "export_stock"),
    "dashboard_run_settlements": ("ir_cron_amazon_import_settlements", "seller_id.settlement_auto"),
    "dashboard_run_returns": ("ir_cron_amazon_import_returns", "seller_id.returns_auto"),
}


class AmazonMarketplace(models.Model):
    """One marketplace of a seller, with where and how its orders land in Odoo."""
    _name = "amazon.marketplace"
    _description = "Amazon Marketplace of a Seller"
    _inherit = ["analytic.mixin", "amazon.refresh.mixin"]
    _sql_constraints = [("seller_marketplace_uniq", "unique(seller_id, amazon_marketplace_id)",
                         "This marketplace is already configured for the seller.")]

    # === FIELDS ===
    seller_id = fields.Many2one("amazon.seller", required=True, ondelete="cascade", index=True,
                                help="The seller account that sells on this marketplace.")
    company_id = fields.Many2one(related="seller_id.company_id", store=True)
    reference_id = fields.Many2one(
        "amazon.marketplace.reference", string="Amazon Marketplace",
        help="Pick the marketplace from Amazon's list, or enter its Amazon marketplace id: "
             "either way its name, sales channel, country and currency come from Amazon's "
             "reference data for that id.")
    name = fields.Char(compute="_compute_name", store=True, readonly=False,
                       help="The marketplace's name, as Amazon's reports write it (e.g. Amazon.de).")
    active = fields.Boolean(default=True)
    amazon_marketplace_id = fields.Char(
        "Marketplace ID", compute="_compute_amazon_marketplace_id", store=True, readonly=False,
        help="Amazon's id of the marketplace (e.g. A1PA6795UKMFR9 for Amazon.de). Orders are "
             "matched to the marketplace by this id.")
    sales_channel = fields.Char(
        compute="_compute_sales_channel", store=True, readonly=False,
        help="How Amazon's reports name this marketplace (e.g. Amazon.de). Filled from "
             "Amazon's reference data by the marketplace id; set it only for a marketplace "
             "that the reference data does not know yet.")
    country_id = fields.Many2one("res.country", compute="_compute_country_id", store=True,
                                 readonly=False, help="The country of the marketplace.")
    currency_id = fields.Many2one("res.currency", compute="_compute_currency_id", store=True,
                                  readonly=False, help="The currency Amazon's buyers pay in here.")
    price_includes_tax = fields.Boolean("Prices Include Tax", compute="_compute_price_includes_tax",
                                        store=True, readonly=False,
                                        help="Amazon's prices include VAT/GST here (EU, UK, JP...): "
                                             "orders use tax-included prices.")
    warehouse_id = fields.Many2one("stock.warehouse", string="FBM Warehouse",
                                   domain="[('company_id', '=', company_id)]",
                                   help="The warehouse you ship this marketplace's orders from.")
    pricelist_id = fields.Many2one("product.pricelist",
                                   help="The pricelist set on the orders (empty: one in the "
                                        "marketplace's currency is used).")
    tag_ids = fields.Many2many("crm.tag", string="Order Tags",
                               help="Tags put on every order of this marketplace.")
    team_id = fields.Many2one("crm.team", string="Sales Team",
                              help="The sales team of the orders, for your sales reports.")
    analytic_distribution = fields.Json(
        help="The analytic accounts the orders' lines are booked to.")
    amazon_participation = fields.Selection(
        [("unknown", "Not Checked"), ("selling", "Selling"), ("not_selling", "Not Selling")],
        string="Seller Sells Here", default="unknown", required=True, copy=False, readonly=True,
        help="Whether Amazon lists the seller on this marketplace, as the last Test Connection "
             "of the seller found.")
    config_warning = fields.Text(
        "Configuration Problem", compute="_compute_config_warning",
        help="What in this marketplace's configuration keeps orders from importing or "
             "shipping as they should, and how to fix it.")
    dashboard_today_count = fields.Integer("Orders Today", compute="_compute_dashboard")
    dashboard_week_count = fields.Integer("Orders in the Last 7 Days", compute="_compute_dashboard")
    dashboard_unshipped_count = fields.Integer("Unshipped", compute="_compute_dashboard")
    dashboard_late_count = fields.Integer("Late to Ship", compute="_compute_dashboard")
    dashboard_to_confirm_count = fields.Integer("Shipments to Confirm", compute="_compute_dashboard")
    dashboard_confirm_failed_count = fields.Integer("Failed Confirmations", compute="_compute_dashboard")
    dashboard_failed_count = fields.Integer(related="seller_id.failed_item_count", string="Failed Items")
    dashboard_report_pending_count = fields.Integer("Reports in Progress", compute="_compute_dashboard")
    dashboard_queue_pending_count = fields.Integer("Queues in Progress", compute="_compute_dashboard")
    connection_state = fields.Selection(related="seller_id.connection_state")
    connection_checked_at = fields.Datetime(related="seller_id.connection_checked_at")
    dashboard_flow_unshipped = fields.Char("Unshipped Imports", compute="_compute_dashboard_flows")
    dashboard_flow_shipped = fields.Char("Shipped Imports", compute="_compute_dashboard_flows")
    dashboard_flow_missing = fields.Char("Missing Orders Checks", compute="_compute_dashboard_flows")
    dashboard_run_status_sync = fields.Char("Order Changes Runs", compute="_compute_dashboard_flows")
    dashboard_run_confirmations = fields.Char("Shipment Confirmation Runs", compute="_compute_dashboard_flows")
    dashboard_run_stock = fields.Char("Stock Export Runs", compute="_compute_dashboard_flows")
    dashboard_run_settlements = fields.Char("Settlement Import Runs", compute="_compute_dashboard_flows")
    dashboard_run_returns = fields.Char("Return Import Runs", compute="_compute_dashboard_flows")
    export_stock = fields.Boolean(
        "Export Stock", default=False,
        help="Send Amazon the quantity Odoo can sell of every product offered on this "
             "marketplace (the free quantity in its FBM Warehouse), within minutes of a change, "
             "so Amazon never sells what Odoo no longer has.")
    stock_reserve = fields.Integer(
        "Stock Reserve", default=0,
        help="Units of each product held back from Amazon (for other channels, or as a "
             "safety margin): Amazon is offered the free quantity less this, never below 0.")
    stock_offer_ids = fields.One2many("amazon.stock.offer", "marketplace_id", string="Stock Offers",
                                      readonly=True,
                                      help="The quantity Amazon holds for each SKU of this marketplace.")
    stock_offer_count = fields.Integer("Offers on Amazon", compute="_compute_stock_counts",
                                       help="The SKUs whose quantity this marketplace exports.")
    stock_error_count = fields.Integer("Stock Errors", compute="_compute_stock_counts",
                                       help="SKUs whose quantity Amazon rejected.")
    stock_export_message = fields.Text(
        "Stock Export Problem", readonly=True,
        help="Why the last stock export of this marketplace stopped (empty: it went through).")
    stock_export_date = fields.Datetime("Stock Export Checked On", readonly=True)
    fiscal_position_id = fields.Many2one(
        "account.fiscal.position", string="Fiscal Position",
        domain="[('company_id', 'in', (company_id, False))]",
        help="Maps the products' taxes for this marketplace's orders (e.g. an OSS or foreign "
             "VAT fiscal position). Empty: Odoo's rules for the buyer's address. Where the "
             "mapped tax's rate is not the one Amazon charged, a tax at Amazon's rate is used "
             "and the order's tax note says so.")
    amazon_collects_tax = fields.Boolean(
        "Tax collected and remitted by Amazon", compute="_compute_amazon_collects_tax",
        store=True, readonly=False,
        help="Amazon collects the sales tax from the buyer and remits it to the tax authorities "
             "(marketplace facilitator laws: United States, Canada, Australia ...). The tax "
             "Amazon charged is posted on the clearing account below, not as the company's own "
             "output tax. On by default where Amazon is the marketplace facilitator; turn it "
             "off if you collect and remit this tax yourself.")
    amazon_tax_account_id = fields.Many2one(
        "account.account", string="Amazon Tax Clearing Account",
        domain="[('company_id', '=', company_id), "
               "('account_type', 'in', ('liability_current', 'asset_current'))]",
        help="Where the tax Amazon collects and remits is posted (cleared when Amazon settles). "
             "Empty: the account 'Tax collected by Amazon' that the connector creates once per "
             "company among the current liabilities.")
    contact_buyers = fields.Boolean(
        "E-mail Buyers", default=False,
        help="Let Odoo e-mail this marketplace's Amazon buyers (order confirmations, delivery "
             "notices, invoices). Off by default: Amazon allows contacting buyers only through "
             "Buyer-Seller Messaging, for what the order needs. Odoo never sends them SMS.")
    dashboard_last_payout = fields.Char("Last Payout", compute="_compute_dashboard_settlements")
    dashboard_settlement_check_count = fields.Integer(
        "Settlements to Check", compute="_compute_dashboard_settlements")

    # === COMPUTE METHODS ===
    # One method per field: a value the seller gives for one of them (creating a
    # marketplace by its id, or with its own name) leaves the others computed.
    @api.depends("reference_id")
    def _compute_name(self):
        for mp in self.filtered("reference_id"):
            ref = mp.reference_id
            mp.name = ref.sales_channel or ref.name

    @api.depends("reference_id")
    def _compute_amazon_marketplace_id(self):
        for mp in self.filtered("reference_id"):
            mp.amazon_marketplace_id = mp.reference_id.amazon_marketplace_id

    @api.depends("reference_id")
    def _compute_sales_channel(self):
        for mp in self.filtered("reference_id"):
            mp.sales_channel = mp.reference_id.sales_channel

    @api.depends("reference_id")
    def _compute_country_id(self):
        for mp in self.filtered("reference_id"):
            mp.country_id = mp.reference_id.country_id

    @api.depends("reference_id")
    def _compute_currency_id(self):
        for mp in self.filtered("reference_id"):
            mp.currency_id = mp.reference_id.currency_id

    @api.depends("reference_id")
    def _compute_price_includes_tax(self):
        for mp in self.filtered("reference_id"):
            mp.price_includes_tax = mp.reference_id.price_includes_tax

    @api.depends("warehouse_id", "amazon_participation", "name", "seller_id.name", "company_id")
    def _compute_config_warning(self):
        for mp in self:
            problems = []
            if not mp.warehouse_id:
                problems.append(_(
                    "No FBM warehouse: orders of %(marketplace)s are shipped from the company's "
                    "first warehouse. Choose the warehouse you ship them from.", marketplace=mp.name))
            if mp.amazon_participation == "not_selling":
                problems.append(_(
                    "Amazon does not list seller %(seller)s on %(marketplace)s (last Test "
                    "Connection): nothing can be imported or confirmed here. Archive this "
                    "marketplace, or register the seller for it in Seller Central.",
                    seller=mp.seller_id.name, marketplace=mp.name))
            mp.config_warning = "\n".join(problems) or False

    def _compute_dashboard(self):
        SaleOrder = self.env["sale.order"]
        base = [("amazon_marketplace_id", "in", self.ids)]
        counts = {}
        for counter in ORDER_COUNTERS:
            groups = SaleOrder._read_group(base + self._dashboard_order_domain(counter),
                                           ["amazon_marketplace_id"], ["__count"])
            counts[counter] = {mp.id: count for mp, count in groups}
        sellers = self.seller_id.ids
        reports = dict(self.env["amazon.report.request"]._read_group(
            [("seller_id", "in", sellers), ("state", "in", ("submitted", "in_progress", "done"))],
            ["seller_id"], ["__count"]))
        queues = dict(self.env["amazon.order.queue"]._read_group(
            [("seller_id", "in", sellers), ("state", "in", ("new", "in_progress"))],
            ["seller_id"], ["__count"]))
        for mp in self:
            for counter in ORDER_COUNTERS:
                mp["dashboard_%s_count" % counter] = counts[counter].get(mp.id, 0)
            mp.dashboard_report_pending_count = reports.get(mp.seller_id, 0)
            mp.dashboard_queue_pending_count = queues.get(mp.seller_id, 0)

    def _compute_dashboard_flows(self):
        def when(value):
            return format_datetime(self.env, value, dt_format="short") if value else _("never")

        for mp in self:
            seller = mp.seller_id
            for flow in FBM_FLOWS:
                nxt = seller[flow.next_run]
                if not seller[flow.auto]:
                    nxt = _("by hand")
                else:
                    nxt = when(nxt) if nxt else _("due now")
                mp[flow.dashboard] = "%s / %s" % (when(seller[flow.last_run]), nxt)
        # The schedules every seller shares (one cron each): its last run and next run
        # (the earlier of its next call and a trigger: a click or a cron asking for it).
        runs = {}
        Trigger = self.env["ir.cron.trigger"].sudo()
        for name, (xmlid, _switch) in DASHBOARD_SCHEDULES.items():
            cron = self.env.ref("amazon_fbm_connector.%s" % xmlid, raise_if_not_found=False)
            cron = cron and cron.sudo()
            if not cron or not cron.active:
                runs[name] = None
                continue
            trigger = Trigger.search([("cron_id", "=", cron.id)], order="call_at", limit=1)
            nxt = min(filter(None, (cron.nextcall, trigger.call_at)))
            runs[name] = (cron.lastcall, nxt)
        for mp in self:
            for name, (_xmlid, switch) in DASHBOARD_SCHEDULES.items():
                if runs[name] is None or (switch and not mp.mapped(switch)[0]):
                    mp[name] = _("off")
                else:
                    last, nxt = runs[name]
                    mp[name] = "%s / %s" % (when(last), when(nxt))

    def _compute_stock_counts(self):
        Offer = self.env["amazon.stock.offer"]
        totals = dict(Offer._read_group([("marketplace_id", "in", self.ids)], ["marketplace_id"],
                                        ["__count"]))
        errors = dict(Offer._read_group([("marketplace_id", "in", self.ids), ("state", "=", "error")],
                                        ["marketplace_id"], ["__count"]))
        for mp in self:
            mp.stock_offer_count = totals.get(mp, 0)
            mp.stock_error_count = errors.get(mp, 0)

    @api.depends("reference_id")
    def _compute_amazon_collects_tax(self):
        for mp in self:
            if mp.reference_id:
                mp.amazon_collects_tax = mp.reference_id.amazon_collects_tax

    def _compute_dashboard_settlements(self):
        Settlement = self.env["amazon.settlement"]
        sellers = self.seller_id
        to_check = dict(Settlement._read_group(
            [("seller_id", "in", sellers.ids), ("state", "=", "to_check")], ["seller_id"],
            ["__count"]))
        last = {}
        for settlement in Settlement.search([("seller_id", "in", sellers.ids),
                                             ("settlement_ref", "!=", False)],
                                            order="deposit_date desc, id desc"):
            last.setdefault(settlement.seller_id.id, settlement)
        for mp in self:
            settlement = last.get(mp.seller_id.id)
            mp.dashboard_settlement_check_count = to_check.get(mp.seller_id, 0)
            mp.dashboard_last_payout = _(
                "%(amount)s on %(date)s", amount=formatLang(
                    self.env, settlement.total_amount, currency_obj=settlement.currency_id),
                date=fields.Date.to_string(settlement.deposit_date.date())
                if settlement.deposit_date else "-") if settlement else _("none yet")

    # === CONSTRAINT METHODS ===
    @api.constrains("amazon_marketplace_id", "name")
    def _check_identity(self):
        for mp in self:
            if not mp.amazon_marketplace_id or not mp.name:
                raise ValidationError(_("Pick the Amazon marketplace (or enter its id and name)."))

    @api.constrains("export_stock", "warehouse_id", "stock_reserve")
    def _check_stock_export(self):
        for mp in self:
            if mp.export_stock and not mp.warehouse_id:
                raise ValidationError(_("Set the FBM Warehouse of %s: its stock is what Amazon is "
                                        "offered.", mp.display_name))
            if mp.stock_reserve < 0:
                raise ValidationError(_("The Stock Reserve cannot be negative."))

    # === ONCHANGE METHODS ===
    @api.onchange("amazon_marketplace_id")
    def _onchange_amazon_marketplace_id(self):
        for mp in self:
            ref = self._reference_for(mp.amazon_marketplace_id)
            if ref and ref != mp.reference_id:
                mp.reference_id = ref

    # === CRUD METHODS ===
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._complete_from_id(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._complete_from_id(vals)
        res = super().write(vals)
        if {"export_stock", "stock_reserve", "warehouse_id"} & set(vals):
            self._stock_settings_changed()
        return res

    @api.depends("name", "seller_id.name")
    def _compute_display_name(self):
        for mp in self:
            mp.display_name = "%s — %s" % (mp.name, mp.seller_id.name) if mp.seller_id.name else mp.name

    @api.ondelete(at_uninstall=False)
    def _unlink_except_referenced(self):
        used = self._amazon_references()
        if used:
            mp, what = next(iter(used.items()))
            raise UserError(_(
                "Marketplace %(marketplace)s cannot be deleted: %(what)s refer to it and would "
                "lose their marketplace. Archive it instead (Action > Archive): its orders and "
                "history stay, and nothing new is imported for it.",
                marketplace=mp.display_name, what=", ".join(what)))

    # === ACTION METHODS ===
    def action_dashboard_orders(self):
        """One dashboard number, opened: the FBM orders behind it, filtered."""
        self.ensure_one()
        counter = self.env.context.get("amazon_counter")
        action = self.env["ir.actions.act_window"]._for_xml_id("amazon_fbm_connector.action_amazon_fbm_orders")
        context = {"search_default_amazon_marketplace_id": self.id, "create": False}
        if counter:
            context["search_default_amazon_%s" % counter] = 1
        action["context"] = context
        action["name"] = _("FBM Orders of %s", self.display_name)
        return action

    def action_dashboard_reports(self):
        action = self.seller_id.action_view_report_requests()
        action["context"] = dict(action["context"], search_default_pending=1)
        return action

    def action_dashboard_queues(self):
        action = self.seller_id.action_view_queues()
        action["context"] = dict(action["context"], search_default_not_done=1)
        return action

    def action_dashboard_failed(self):
        return self.env["amazon.import.failure"].action_open(self.seller_id)

    def action_dashboard_operations(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "amazon_fbm_connector.action_amazon_operation_wizard")
        action["context"] = {"default_seller_id": self.seller_id.id,
                             "default_marketplace_ids": [self.id]}
        return action

    def action_dashboard_seller(self):
        self.ensure_one()
        return {"type": "ir.actions.act_window", "res_model": "amazon.seller", "res_id": self.seller_id.id,
                "view_mode": "form", "name": self.seller_id.name}

    def action_open_stock_offers(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "amazon_fbm_connector.action_amazon_stock_offer")
        action["domain"] = [("marketplace_id", "in", self.ids)]
        return action

    def action_open_stock_errors(self):
        action = self.action_open_stock_offers()
        action["context"] = {"search_default_rejected": 1}
        return action

    def action_dashboard_settlements(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "amazon_fbm_connector.action_amazon_settlement")
        action["domain"] = [("seller_id", "=", self.seller_id.id)]
        if self.dashboard_settlement_check_count:
            action["context"] = {"search_default_to_check": 1}
        return action

    # === BUSINESS METHODS ===
    @api.model
    def _complete_from_id(self, vals):
        """A marketplace entered by its Amazon id gets the reference data of that id."""
        if vals.get("amazon_marketplace_id") and not vals.get("reference_id"):
            vals["amazon_marketplace_id"] = vals["amazon_marketplace_id"].strip()
            ref = self._reference_for(vals["amazon_marketplace_id"])
            if ref:
                vals["reference_id"] = ref.id

    @api.model
    def _reference_for(self, code):
        if not code:
            return self.env["amazon.marketplace.reference"]
        return self.env["amazon.marketplace.reference"].search(
            [("amazon_marketplace_id", "=", code.strip())], limit=1)

    def _amazon_note_participation(self, marketplace_ids):
        """The marketplaces Amazon lists the seller on (Test Connection): the others are
        flagged. Returns the marketplaces the seller does not sell on."""
        selling = self.filtered(lambda mp: mp.amazon_marketplace_id in marketplace_ids)
        (self - selling).sudo().amazon_participation = "not_selling"
        selling.sudo().amazon_participation = "selling"
        return self - selling

    def _start_of_today(self):
        """Midnight of the user's today, in UTC (naive, like the database)."""
        tz = pytz.timezone(self.env.context.get("tz") or self.env.user.tz or "UTC")
        midnight = tz.localize(datetime.combine(datetime.now(tz).date(), time.min))
        return midnight.astimezone(pytz.utc).replace(tzinfo=None)

    def _dashboard_order_domain(self, counter):
        """The orders behind one dashboard number."""
        if counter == "today":
            return [("date_order", ">=", self._start_of_today())]
        if counter == "week":
            return [("date_order", ">=", self._start_of_today() - timedelta(days=6))]
        if counter == "unshipped":
            return [("amazon_status", "in", list(UNSHIPPED_STATUSES)), ("state", "!=", "cancel"),
                    ("delivery_status", "!=", "full")]
        if counter == "late":
            return [("amazon_late", "=", True)]
        if counter == "to_confirm":
            return [("picking_ids.amazon_confirm_state", "=", "to_send")]
        if counter == "confirm_failed":
            return [("picking_ids.amazon_confirm_state", "=", "failed")]
        raise ValueError(counter)

    def _amazon_references(self):
        """``{marketplace: ["40 Sales Orders", ...]}`` of the marketplaces other records
        point to (stored many2one and many2many fields of every model; records deleted
        with their marketplace, ``ondelete="cascade"``, are its own and do not count)."""
        if not self:
            return {}
        found = {}
        fields_ = self.env["ir.model.fields"].sudo().search([
            ("relation", "=", self._name), ("ttype", "in", ("many2one", "many2many")),
            ("store", "=", True), ("on_delete", "!=", "cascade")])
        for rec in fields_:
            if rec.model not in self.env:
                continue
            Model = self.env[rec.model].sudo().with_context(active_test=False)
            field = Model._fields.get(rec.name)
            if field is None or not field.store or Model._abstract or Model._transient \
                    or not Model._auto:   # reports are SQL views of the orders
                continue
            groups = Model._read_group([(rec.name, "in", self.ids)], [rec.name], ["__count"])
            label = Model._description or Model._name
            for record, count in groups:
                for mp in record & self:
                    found.setdefault(mp, []).append("%s %s" % (count, label))
        return found

    def _stock_settings_changed(self):
        """Every offer's quantity may differ now: compare them all at the next export."""
        self.env["amazon.stock.offer"].sudo().search(
            [("marketplace_id", "in", self.ids)]).write({"to_send": True})
        if any(self.mapped("export_stock")):
            self.env["amazon.stock.offer"]._trigger_export()
