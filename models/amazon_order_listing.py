import json
import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..services import errors
from ..services import runner as runner_mod
from ..services.const import MFN
from ..services.normalize import parse_datetime
from .amazon_order_queue import FLOW_INCLUDED_DATA, FLOW_STATUSES, FLOWS

_logger = logging.getLogger(__name__)
LISTING_CRON = "amazon_fbm_connector.ir_cron_amazon_order_listings"
KEEP_DAYS = 30  # finished listings kept this long


class AmazonOrderListing(models.Model):
    """One listing of Amazon's orders (shipped or missing-unshipped flow), read
    page by page across as many runs as it takes.

    Amazon lists 100 orders a page and, past its burst, grants one searchOrders
    call every few minutes: a listing of thousands of orders takes longer than
    Odoo lets one request or cron pass run. Each page read is queued and
    committed at once, with the token of the next page; a run stops before
    Odoo's time limit (or before a quota wait that would cross it) and the
    listing cron continues it. A killed server loses at most the page it read."""

    _name = "amazon.order.listing"
    _description = "Amazon Order Listing"
    _order = "id desc"

    seller_id = fields.Many2one("amazon.seller", required=True, ondelete="cascade", index=True,
                                readonly=True)
    company_id = fields.Many2one(related="seller_id.company_id", store=True)
    flow = fields.Selection(FLOWS, required=True, readonly=True)
    origin = fields.Selection([("manual", "Amazon > Operations"), ("scheduled", "FBM Scheduler")],
                              required=True, default="manual", readonly=True)
    marketplace_ids = fields.Many2many("amazon.marketplace", string="Marketplaces", readonly=True)
    api_version = fields.Char("Orders API Version", readonly=True)
    params = fields.Text("Request Parameters", readonly=True,
                         help="The listing's exact parameters: a page token is valid only with them.")
    date_from = fields.Datetime(readonly=True, help="Start of the window (creation, or last update "
                                                    "for scheduled listings).")
    date_to = fields.Datetime(readonly=True)
    next_token = fields.Char("Next Page Token", readonly=True, copy=False)
    token_date = fields.Datetime("Token Received On", readonly=True, copy=False,
                                 help="Orders API 2026-01-01 page tokens are valid 24 hours.")
    page_count = fields.Integer("Pages Read", readonly=True)
    order_count = fields.Integer("Orders Read", readonly=True)
    queued_count = fields.Integer("Orders Queued", readonly=True)
    restart_count = fields.Integer("Restarts", readonly=True)
    state = fields.Selection([("running", "Running"), ("done", "Done"), ("failed", "Failed")],
                             default="running", required=True, readonly=True, index=True)
    message = fields.Text(readonly=True)
    cursor_field = fields.Char(readonly=True, help="Scheduled listings: the seller's cursor "
                                                   "moved to the window's end once complete.")
    window_end = fields.Datetime(readonly=True, help="The end of the window Amazon's last page covers.")
    price_report_id = fields.Many2one("amazon.price.report", readonly=True)
    queue_ids = fields.One2many("amazon.order.queue", "listing_id", string="Queues", readonly=True)

    # === COMPUTE METHODS ===
    @api.depends("seller_id", "flow", "create_date")
    def _compute_display_name(self):
        flows = dict(FLOWS)
        for listing in self:
            listing.display_name = "%s: %s (%s)" % (
                listing.seller_id.name or "", flows.get(listing.flow, ""),
                fields.Datetime.to_string(listing.create_date) if listing.create_date else _("new"))

    # === BUSINESS METHODS ===
    @api.model
    def _start(self, seller, marketplaces, flow, *, date_from=None, date_to=None, since=None,
               cursor_field=None):
        """A new listing: the FBM orders of ``flow`` created in [date_from, date_to],
        or (scheduled, ``since``) updated since then, whenever created."""
        adapter = seller._get_client().orders()
        codes = marketplaces.mapped("amazon_marketplace_id")
        common = {"statuses": FLOW_STATUSES[flow], "channels": [MFN],
                  "included_data": FLOW_INCLUDED_DATA[flow]}
        if since:
            params = adapter.listing_params(codes, last_updated_after=since, **common)
        else:
            params = adapter.listing_params(codes, created_after=date_from,
                                            created_before=date_to - timedelta(minutes=2), **common)
        return self.create({
            "seller_id": seller.id, "flow": flow, "marketplace_ids": [(6, 0, marketplaces.ids)],
            "origin": "scheduled" if since else "manual", "api_version": adapter.version,
            "params": json.dumps(params), "date_from": since or date_from,
            "date_to": False if since else date_to, "cursor_field": cursor_field or False,
        })

    @api.model
    def _list_now(self, seller, marketplaces, flow, date_from, date_to):
        """Amazon > Operations: start the listing and hand it to the listing cron,
        which reads it page by page in the background (a click never waits for
        Amazon's listing quota inside the web request)."""
        listing = self._start(seller, marketplaces, flow, date_from=date_from, date_to=date_to)
        runner_mod.Runner(self.env).trigger(LISTING_CRON)
        return listing

    def _action_open_queues(self, operation=None):
        """The order data queues this listing fills, as they are made."""
        self.ensure_one()
        return {"type": "ir.actions.act_window", "res_model": "amazon.order.queue",
                "name": _("Order Data Queues"), "target": "current", "context": {"create": False},
                "view_mode": "tree,form", "views": [(False, "tree"), (False, "form")],
                "domain": [("listing_id", "=", self.id)]}

    def _run(self, runner):
        """Read pages until the listing ends or the runner's time is up: each page is
        queued and committed with the token of the next. Returns True when the
        listing is complete. Amazon errors are recorded on the listing and raised; a
        transient one leaves it running for the next run."""
        self.ensure_one()
        with runner.lock("order_listing", self.id) as held:
            if not held:
                return False  # another worker is reading it
            if self.state != "running":
                return self.state == "done"
            return self._read_pages(runner)

    def _read_pages(self, runner):
        client = runner.client(self.seller_id)
        adapter = client.orders(self.api_version)
        params = json.loads(self.params)
        restarted = False
        while self.state == "running":
            if runner.out_of_time():
                return self._pause(runner)
            try:
                page = adapter.read_page(params, self.next_token or None)
            except errors.AmazonOutOfTime as exc:
                return self._pause(runner, exc.wait)
            except errors.AmazonRequestError as exc:
                if self.next_token and exc.status == 400 and not restarted:
                    # Amazon refuses the page token (2026-01-01's expire after 24 hours)
                    restarted = True
                    runner.run_batch(self._restart, str(exc))
                    continue
                runner.run_batch(self._record_error, exc)
                raise
            except errors.AmazonError as exc:
                runner.run_batch(self._record_error, exc)
                raise
            runner.run_batch(self._take_page, client, page)
        return self.state == "done"

    def _take_page(self, client, page):
        """Queue the page's orders not handled yet (their queues wake the workers)."""
        Queue = self.env["amazon.order.queue"]
        codes = self.marketplace_ids.mapped("amazon_marketplace_id")
        scheduled = self.origin == "scheduled"
        date_to = self.date_to or fields.Datetime.now()
        queues = Queue._queue_new(self.seller_id, client, codes, self.flow, page.orders, self.date_from,
                                  date_to, by_update=scheduled, listing=self,
                                  more=bool(page.next_token or self.page_count))
        values = {"page_count": self.page_count + 1, "order_count": self.order_count + len(page.orders),
                  "queued_count": self.queued_count + sum(len(q.line_ids) for q in queues),
                  "next_token": page.next_token or False,
                  "token_date": fields.Datetime.now() if page.next_token else False}
        if page.next_token:
            self.write(values)
            return
        end = parse_datetime(page.window_end) if page.window_end else None
        if values["page_count"] == 1:
            message = _("Complete: %(orders)s orders read in one page, %(queued)s queued.",
                        orders=values["order_count"], queued=values["queued_count"])
        else:
            message = _("Complete: %(orders)s orders read in %(pages)s pages, %(queued)s queued.",
                        orders=values["order_count"], pages=values["page_count"],
                        queued=values["queued_count"])
        values.update(state="done", window_end=end or False, message=message)
        if self.restart_count:
            values["message"] += " " + (_(
                "Amazon refused an expired page token: the listing started again from its first "
                "page once.") if self.restart_count == 1 else _(
                "Amazon refused an expired page token: the listing started again from its first "
                "page %s times.", self.restart_count))
        self.write(values)
        if self.cursor_field:
            # Scheduled: the seller's cursor moves only once the whole window is queued.
            end = end or self.create_date - timedelta(minutes=2)
            cursor = self.seller_id[self.cursor_field]
            if not cursor or end > cursor:
                self.seller_id[self.cursor_field] = end

    def _pause(self, runner, wait=None):
        """Stop before Odoo's time limit; the listing cron continues (once the
        quota has a call again, when Amazon's bucket is what we wait for)."""
        self.message = _("Pages read so far: %(pages)s (%(orders)s orders), %(queued)s orders queued; "
                         "the rest is listed in the background before Odoo's time limit.",
                         pages=self.page_count, orders=self.order_count, queued=self.queued_count)
        runner.commit()
        runner.trigger(LISTING_CRON, wait=wait)
        return False

    def _restart(self, reason):
        _logger.info("amazon listing %s: page token refused, restarting from the first page", self.id)
        self.write({"next_token": False, "token_date": False, "restart_count": self.restart_count + 1,
                    "message": _("Amazon refused the token of the next page (tokens are valid 24 "
                                 "hours): the listing started again from its first page; orders "
                                 "queued already are not queued twice. Amazon said: %s", reason)})

    def _record_error(self, exc):
        """Transient (throttled, 5xx, unreachable): running, the next run retries.
        Otherwise, or a click that read nothing yet: failed."""
        failed = not exc.retryable or (self.origin == "manual" and not self.page_count)
        self.write({"state": "failed" if failed else "running", "message": str(exc)})

    @api.model
    def _cron_continue(self):
        """Continue the running listings, until Odoo's time limit is near."""
        runner = runner_mod.Runner(self.env, cron=LISTING_CRON)
        for listing in self.search([("state", "=", "running")], order="id"):
            if runner.out_of_time():
                runner.trigger()
                break
            try:
                listing._run(runner)
            except errors.AmazonError as exc:
                _logger.info("amazon listing %s: %s", listing.id, type(exc).__name__)
            except UserError as exc:
                # the seller cannot reach Amazon any more (credentials removed)
                runner.rollback()
                runner.run_batch(listing.write, {"state": "failed", "message": str(exc)})
        old = fields.Datetime.now() - timedelta(days=KEEP_DAYS)
        runner.run_batch(self.search([("state", "in", ("done", "failed")), ("write_date", "<", old)]).unlink)
        return True
