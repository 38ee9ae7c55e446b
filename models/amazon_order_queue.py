import json
import logging
from datetime import timedelta

from odoo import _, api, fields, models

from ..services import delivery, errors, pipeline, pricing
from ..services import runner as runner_mod
from ..services.const import (
    FLOW_MISSING_UNSHIPPED,
    FLOW_SHIPPED,
    INCLUDED_DATA_IMPORT,
    INCLUDED_DATA_SHIPPED,
    SHIPPED_STATUSES,
    UNSHIPPED_STATUSES,
)
from ..services.normalize import is_orders_2026, payload_marketplace_id, payload_order_id
from .amazon_order_queue_line import RESULTS

_logger = logging.getLogger(__name__)
CLAIM_BATCH = 50
# A claim takes lines of up to this many small queues at once (notified orders come
# in queues of a few lines each).
QUEUES_PER_CLAIM = 20
# The cron jobs that process queues (data/ir_cron_data.xml): Odoo runs each job in
# one cron thread at a time, so several jobs are how the cron threads of one or more
# servers share the queues.
QUEUE_WORKER_CRONS = ["amazon_fbm_connector.ir_cron_amazon_order_queues"] + [
    "amazon_fbm_connector.ir_cron_amazon_order_queues_%d" % n for n in (2, 3, 4)]
FLOW_STATUSES = {FLOW_SHIPPED: list(SHIPPED_STATUSES), FLOW_MISSING_UNSHIPPED: list(UNSHIPPED_STATUSES)}
# What each flow asks Orders API 2026-01-01 to include (v0 ignores it).
FLOW_INCLUDED_DATA = {FLOW_SHIPPED: INCLUDED_DATA_SHIPPED, FLOW_MISSING_UNSHIPPED: INCLUDED_DATA_IMPORT}
FLOWS = [(FLOW_SHIPPED, "FBM Shipped Orders"), (FLOW_MISSING_UNSHIPPED, "FBM Missing Unshipped Orders")]


class AmazonOrderQueue(models.Model):
    """Orders found on Amazon, waiting for the cron to turn them into sale orders."""

    _name = "amazon.order.queue"
    _description = "Amazon Order Data Queue"
    _inherit = ["mail.thread", "amazon.sequence.mixin", "amazon.refresh.mixin"]
    _order = "id desc"
    _sequence_code = "amazon.order.queue"

    # === FIELDS ===
    seller_id = fields.Many2one("amazon.seller", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="seller_id.company_id", store=True)
    marketplace_id = fields.Many2one("amazon.marketplace")
    flow = fields.Selection(FLOWS, required=True)
    state = fields.Selection([("new", "New"), ("in_progress", "In Progress"),
                              ("partial", "Has Failed Lines"), ("done", "Done")],
                             default="new", required=True, index=True, tracking=True)
    line_ids = fields.One2many("amazon.order.queue.line", "queue_id", readonly=True)
    price_report_id = fields.Many2one("amazon.price.report", readonly=True)
    listing_id = fields.Many2one("amazon.order.listing", readonly=True, index=True, ondelete="set null",
                                 help="The listing of Amazon's orders that queued these.")
    done_date = fields.Datetime(readonly=True)
    line_count = fields.Integer(compute="_compute_line_stats")
    failed_count = fields.Integer(compute="_compute_line_stats")
    done_count = fields.Integer(compute="_compute_line_stats")
    summary = fields.Char(compute="_compute_summary",
                          help="What the scheduler does next with this queue, or what it did.")

    # === COMPUTE METHODS ===
    @api.depends("line_ids.state")
    def _compute_line_stats(self):
        for queue in self:
            states = queue.line_ids.mapped("state")
            queue.line_count = len(states)
            queue.failed_count = states.count("failed")
            queue.done_count = states.count("done") + states.count("skipped")

    @api.depends("state", "line_ids.state", "line_ids.outcome", "done_date",
                 "price_report_id.state", "price_report_id.request_count")
    def _compute_summary(self):
        for queue in self:
            results = queue.line_ids.mapped("result")
            counts = {key: results.count(key) for key, _label in RESULTS}
            prices = queue.price_report_id
            if queue.state in ("new", "in_progress") and prices.state == "requested" \
                    and prices.request_count > 1:
                # A damaged price document: the orders wait for the report requested again.
                queue.summary = _("Orders waiting for Amazon's price report: %(n)s. It was requested "
                                  "again because its document was damaged (request %(r)s); the "
                                  "scheduler imports them once it is read.", n=len(results), r=prices.request_count)
            elif queue.state == "new":
                queue.summary = _("Orders waiting for the scheduler: %(n)s. It imports them within "
                                  "minutes: there is nothing to click.", n=len(results))
            elif queue.state == "in_progress":
                queue.summary = _("The scheduler is importing these orders: %(d)s of %(n)s handled so far.",
                                  d=len(results) - counts["pending"], n=len(results))
            else:
                text = _("%(c)s created, %(u)s updated (shipped on Amazon: delivery validated), "
                         "%(e)s already in Odoo, %(s)s skipped, %(f)s failed.",
                         c=counts["created"], u=counts["updated"], e=counts["existing"],
                         s=counts["skipped"], f=counts["failed"])
                if queue.state == "done":
                    queue.summary = _("Done: %s", text)
                else:
                    queue.summary = _("%(text)s The failed orders say why; the scheduler tries them "
                                      "again up to %(n)s times, so fix the cause (e.g. map the SKU) "
                                      "and wait.", text=text, n=queue.seller_id.max_line_attempts or 3)

    # === ACTION METHODS ===

    def _action_open_made(self, operation):
        """After Amazon > Operations queued orders: the queues it made."""
        count = sum(len(q.line_ids) for q in self)
        action = {"type": "ir.actions.act_window", "res_model": "amazon.order.queue",
                  "name": _("1 Order Queued") if count == 1 else _("%(n)s Orders Queued", n=count),
                  "target": "current",
                  "context": {"create": False}}
        if len(self) == 1:
            return dict(action, res_id=self.id, view_mode="form", views=[(False, "form")])
        return dict(action, view_mode="tree,form", views=[(False, "tree"), (False, "form")],
                    domain=[("id", "in", self.ids)])

    # === BUSINESS METHODS: queueing ===
    def _amazon_refresh_targets(self):
        # the queue's form and list, and the dashboard's "Queues in progress"
        return {self._name: self, "amazon.marketplace": self.seller_id.marketplace_ids}

    @api.model
    def _create_queues(self, seller, flow, headers, price_report=None, listing=None):
        size = max(seller.queue_size or 50, 1)
        by_marketplace = {m.amazon_marketplace_id: m for m in seller.marketplace_ids}
        queues = self.browse()
        for start in range(0, len(headers), size):
            chunk = headers[start:start + size]
            mps = {payload_marketplace_id(h) for h in chunk}
            queues |= self.create({
                "seller_id": seller.id, "flow": flow,
                "marketplace_id": by_marketplace.get(mps.pop()).id if len(mps) == 1 and
                by_marketplace.get(next(iter(mps), None) or "") else False,
                "price_report_id": price_report.id if price_report else False,
                "listing_id": listing.id if listing else False,
                "line_ids": [(0, 0, {"amazon_order_ref": payload_order_id(h),
                                     "payload": json.dumps(h)}) for h in chunk],
            })
        if queues:
            self._trigger_workers()
        return queues

    def _price_report_for(self, seller, client, codes, headers, date_from, date_to, by_update=False,
                          more=False):
        """One price report (v0) for the orders of a listing; ``more``: the listing
        has more pages than ``headers``, so the report is asked for the whole window."""
        if not headers or all(is_orders_2026(h) for h in headers):
            return None  # Orders API 2026-01-01 orders come priced
        if len(headers) <= pricing.ITEMS_CALL_THRESHOLD and not more:
            return None  # few orders: getOrderItems
        return self.env["amazon.price.report"]._request(seller, codes, date_from, date_to, client=client,
                                                        by_update=by_update)

    @api.model
    def _import_shipped(self, seller, marketplaces, date_from, date_to, stop_at=None):
        return self._import_orders(seller, marketplaces, date_from, date_to, FLOW_SHIPPED, stop_at)

    @api.model
    def _import_missing_unshipped(self, seller, marketplaces, date_from, date_to, stop_at=None):
        return self._import_orders(seller, marketplaces, date_from, date_to, FLOW_MISSING_UNSHIPPED, stop_at)

    def _import_orders(self, seller, marketplaces, date_from, date_to, flow, stop_at=None):
        """List the FBM orders created in the window and queue those still to handle:
        the queues made, page by page, before Odoo's time limit (or ``stop_at``); the
        listing (``amazon.order.listing``) continues in the background if longer."""
        Listing = self.env["amazon.order.listing"]
        listing = Listing._start(seller, marketplaces, flow, date_from=date_from, date_to=date_to)
        listing._run(runner_mod.Runner(self.env, stop_at=stop_at))
        return listing.queue_ids

    def _queue_new(self, seller, client, codes, flow, headers, date_from, date_to, by_update=False,
                   listing=None, more=False):
        """Queue the orders of ``headers`` not handled yet (one page of ``listing``).
        A v0 listing asks one price report for its window, used by all its pages."""
        handled = self._already_handled(seller, flow, [payload_order_id(h) for h in headers])
        headers = [h for h in headers if payload_order_id(h) not in handled]
        report = listing.price_report_id if listing else None
        if not report:
            report = self._price_report_for(seller, client, codes, headers, date_from, date_to,
                                            by_update, more=more)
            if report and listing:
                listing.price_report_id = report
        return self._create_queues(seller, flow, headers, report, listing=listing)

    def _already_handled(self, seller, flow, refs):
        """Orders queued already; for missing-unshipped, also the orders Odoo has.
        (A shipped order Odoo has from the unshipped flow is queued: it gets delivered.)"""
        line_states = ("pending", "done") if flow == FLOW_SHIPPED else ("pending",)
        handled = set(self.env["amazon.order.queue.line"].search([
            ("seller_id", "=", seller.id), ("amazon_order_ref", "in", refs),
            ("queue_id.flow", "=", flow), ("state", "in", line_states)]).mapped("amazon_order_ref"))
        if flow == FLOW_MISSING_UNSHIPPED:
            handled |= set(self.env["sale.order"].with_context(active_test=False).search([
                ("amazon_seller_id", "=", seller.id), ("amazon_order_ref", "in", refs),
            ]).mapped("amazon_order_ref"))
        return handled

    # === BUSINESS METHODS: processing ===
    _CLAIMABLE = """
        (l.state = 'pending'
         OR (l.state = 'failed' AND l.attempts < COALESCE(s.max_line_attempts, 3)
             AND (l.next_try IS NULL OR l.next_try <= (now() at time zone 'UTC'))))"""

    def _claim(self, runner, limit):
        """Lock one queue and up to ``limit`` of its lines that no other worker holds
        (FOR UPDATE SKIP LOCKED on both, on a fresh snapshot). Two workers never write
        the same queue row (REPEATABLE READ would make that a serialization failure):
        they process different queues in parallel."""
        queue_ids = runner.claim("""
            SELECT q.id
              FROM amazon_order_queue q
              JOIN amazon_seller s ON s.id = q.seller_id
         LEFT JOIN amazon_price_report p ON p.id = q.price_report_id
             WHERE q.state != 'done'
               AND (p.id IS NULL OR p.state != 'requested')
               AND EXISTS (SELECT 1 FROM amazon_order_queue_line l
                            WHERE l.queue_id = q.id AND %s)
          ORDER BY q.id
             LIMIT 1
        FOR UPDATE OF q SKIP LOCKED""" % self._CLAIMABLE)
        if not queue_ids:
            return self.env["amazon.order.queue.line"]
        # Same transaction as the queue's lock: no commit in between.
        # A claim inside the runner's batch (row locks, SKIP LOCKED): released by its commit.
        line_ids = self._claim_lines(queue_ids[0], limit)
        # Small queues (a few notified orders each) are built together: more small queues
        # of the same seller, flow and marketplace, without price report, one at a time
        # while the batch has room. Full queues (queue_size lines, from listings and
        # reports) are claimed one a batch, so that several workers share them.
        first = self.browse(queue_ids[0])
        if first.price_report_id or len(first.line_ids) >= (first.seller_id.queue_size or 1):
            return self.env["amazon.order.queue.line"].browse(line_ids)
        for _n in range(QUEUES_PER_CLAIM - 1):
            if len(line_ids) >= limit:
                break
            self.env.cr.execute("""
                SELECT q.id
                  FROM amazon_order_queue q
                  JOIN amazon_seller s ON s.id = q.seller_id
                 WHERE q.state != 'done' AND q.id > %%s AND q.seller_id = %%s AND q.flow = %%s
                   AND q.marketplace_id IS NOT DISTINCT FROM %%s AND q.price_report_id IS NULL
                   AND (SELECT count(*) FROM amazon_order_queue_line a
                         WHERE a.queue_id = q.id) < COALESCE(s.queue_size, 1)
                   AND EXISTS (SELECT 1 FROM amazon_order_queue_line l
                                WHERE l.queue_id = q.id AND %s)
              ORDER BY q.id
                 LIMIT 1
            FOR UPDATE OF q SKIP LOCKED""" % self._CLAIMABLE, (
                queue_ids[-1], first.seller_id.id, first.flow, first.marketplace_id.id or None))
            row = self.env.cr.fetchone()
            if not row:
                break
            queue_ids.append(row[0])
            line_ids += self._claim_lines(row[0], limit - len(line_ids))
        return self.env["amazon.order.queue.line"].browse(line_ids)

    def _claim_lines(self, queue_id, limit):
        self.env.cr.execute("""
            SELECT l.id
              FROM amazon_order_queue_line l
              JOIN amazon_order_queue q ON q.id = l.queue_id
              JOIN amazon_seller s ON s.id = q.seller_id
             WHERE l.queue_id = %%s AND %s
          ORDER BY l.id
             LIMIT %%s
        FOR UPDATE OF l SKIP LOCKED""" % self._CLAIMABLE, (queue_id, limit))
        return [r[0] for r in self.env.cr.fetchall()]

    @api.model
    def _poll_price_reports(self, runner):
        """Several queue workers run this at once: one of them polls (and stores) a
        report, the others skip it (row lock, SKIP LOCKED, fresh snapshot)."""
        reports = self.search([("state", "in", ("new", "in_progress")),
                               ("price_report_id.state", "=", "requested")]).price_report_id
        for report in reports:
            try:
                runner.run_batch(self._poll_price_report, report, retries=0)
            except runner_mod.CONCURRENCY_ERRORS:
                continue   # another worker polled it since our snapshot

    @api.model
    def _poll_price_report(self, report):
        report.flush_recordset(["state"])
        # A claim inside the runner's batch (row locks, SKIP LOCKED): released by its commit.
        self.env.cr.execute("SELECT id FROM amazon_price_report WHERE id = %s AND state = 'requested' "
                            "FOR UPDATE SKIP LOCKED", (report.id,))
        if not self.env.cr.fetchone():
            return
        try:
            report._poll()
        except errors.AmazonError as exc:
            report.message = str(exc)

    @api.model
    def _trigger_workers(self):
        """Wake every queue cron job now (on commit), instead of at its next interval."""
        runner = runner_mod.Runner(self.env)
        for xmlid in QUEUE_WORKER_CRONS:
            runner.trigger(xmlid)

    @api.model
    def _cron_process_queues(self, max_batches=40):
        """The only way queues are processed: claim, build, commit, repeat.

        Several cron jobs run this at once (QUEUE_WORKER_CRONS), in the cron threads
        of one or more servers; each batch is claimed with SKIP LOCKED and committed
        alone (``services.runner``), so a killed server loses only the batch it had not
        committed. A run stops before Odoo's cron time limit and triggers the workers
        again when lines remain."""
        runner = runner_mod.Runner(self.env)
        self._poll_price_reports(runner)
        delivery.dispatch_pending(runner)  # what a killed worker left flagged
        conflicts = processed = batches = 0
        for _batch in range(max_batches):
            if runner.out_of_time():
                # Odoo's time limit is near: continue in the next cron pass.
                self._trigger_workers()
                break
            try:
                count = runner.run_batch(self._process_claimed, runner, retries=0)
            except runner_mod.CONCURRENCY_ERRORS:
                # Another worker changed a row we touched, or created a record with
                # the same unique key at the same instant: the batch was rolled back,
                # its lines stay pending and are claimed again on a fresh snapshot.
                _logger.info("amazon queues: concurrent update, batch rolled back")
                conflicts += 1
                if conflicts > 5:
                    break
                continue
            if not count:
                break
            delivery.dispatch_pending(runner)
            processed += count
            batches += 1
        else:
            # Out of batches with work left: run again now rather than in an interval.
            self._trigger_workers()
        if processed:
            _logger.info("amazon queues: %d order lines processed in %d batches (%d rolled back)",
                         processed, batches, conflicts)
        return True

    @api.model
    def _process_claimed(self, runner):
        """One batch: claim lines, build their orders; how many lines were claimed."""
        lines = self._claim(runner, CLAIM_BATCH)
        if lines:
            self._process_lines(lines)
        return len(lines)

    @api.model
    def _process_lines(self, lines):
        # Queues alike (seller, flow, marketplace, price report) are built in one pipeline run.
        groups = {}
        for line in lines:
            q = line.queue_id
            key, n = (q.seller_id.id, q.flow, q.marketplace_id.id, q.price_report_id.id), 0
            while line.amazon_order_ref in groups.get(key + (n,), lines.browse()).mapped("amazon_order_ref"):
                n += 1   # an order in two queues: built in turn, never twice in one run
            groups[key + (n,)] = groups.get(key + (n,), lines.browse()) | line
        for glines in groups.values():
            queues = glines.queue_id
            queues.state = "in_progress"
            try:
                queues[0]._process_queue_lines(glines)
            except errors.AmazonError as exc:
                glines._fail(str(exc))
            queues._update_state()

    def _process_queue_lines(self, lines):
        seller = self.seller_id
        adapter = seller._get_client().orders()
        entries = [pipeline.Entry(line.amazon_order_ref, payload=json.loads(line.payload))
                   for line in lines]
        results = pipeline.run(seller, entries, flow=self.flow,
                               prices=self.price_report_id._price_book(adapter),
                               marketplaces=self.marketplace_id or None, adapter=adapter,
                               defer_delivery=True)
        by_ref = {line.amazon_order_ref: line for line in lines}
        for res in results:
            line = by_ref[res.ref]
            if res.state in ("created", "existing"):
                line._done(res.sale_order, res.message)
            elif res.state == "skipped":
                line.write({"state": "skipped", "message": res.message})
            else:
                line._fail(res.message)

    def _update_state(self):
        for queue in self:
            states = set(queue.line_ids.mapped("state"))
            if states <= {"done", "skipped"}:
                queue.write({"state": "done", "done_date": fields.Datetime.now()})
            elif "failed" in states and "pending" not in states:
                queue.state = "partial"

    @api.model
    def _cron_purge_done(self, days=7):
        limit = fields.Datetime.now() - timedelta(days=days)
        self.search([("state", "=", "done"), ("done_date", "<", limit)]).unlink()
