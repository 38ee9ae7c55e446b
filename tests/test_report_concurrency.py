"""A Sale Order Report processed by one worker while a queue worker (another cron
job, another server) imports at the same instant -- real cursors and commits:

* both make the company's first import of a marketplace whose tax Amazon
  collects, so both need the "Tax collected by Amazon" account: it is created
  once, and the report's batch that lost the race runs again on a fresh
  snapshot instead of failing the whole report until the next cron interval;
* a batch that breaks the transaction still releases the report's processing
  lock: a session lock left on a pooled connection would keep every other
  server away from the report."""
from datetime import timedelta
from functools import partial
from unittest.mock import patch

import psycopg2

from odoo import SUPERUSER_ID, api, fields
from odoo.sql_db import connection_info_for
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..services import pipeline
from ..services.rate_limit import RateLimiter
from ..services.runner import lock_namespace
from ..services.tax_resolver import CLEARING_XMLID, XMLID_MODULE
from .common import AmazonCase, cron_worker, first_builds_at_once, run_in_threads


@tagged("post_install", "-at_install")
class TestReportConcurrency(AmazonCase):
    real_cursors = True  # its workers open committed cursors of their own
    """Committed rows stay in the throw-away test database (see TestQueueConcurrency)."""

    def _committed_report_and_queue(self, forget_clearing_account=True):
        """A new seller with a Done Sale Order Report (its unshipped orders) and a queue
        of one older unshipped order (the "missing unshipped" flow), committed. ``forget_clearing_account``: the company has
        not met an Amazon-collected tax yet (an earlier committed test may have)."""
        # products the seller creates: the test's own products are not committed
        self.add_us_order(buyer_email="report.race@marketplace.amazon.com", buyer_name="Report Race",
                          items=[{"sku": "RACE-REPORT", "qty": 1, "price": "10.00", "tax": "0.83"}])
        # the queue's order is older than the report's dates: each worker has its own
        # order (an unshipped one: validating a delivery here would wait for the test's
        # own transaction, which holds account_analytic_line since it added a plan).
        # Both stay within their ship-by dates: later tests count late orders.
        queued = self.add_us_order(buyer_email="queue.race@marketplace.amazon.com", buyer_name="Queue Race",
                                   purchase_date=self.now - timedelta(hours=30),
                                   items=[{"sku": "RACE-QUEUE", "qty": 1, "price": "10.00", "tax": "0.83"}])
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            workflow = env["amazon.sale.workflow"].create({"name": "Race: confirm", "confirm_order": True})
            seller = env["amazon.seller"].create({
                "name": "Race seller", "lwa_client_id": self.seller.lwa_client_id,
                "lwa_client_secret": self.seller.lwa_client_secret,
                "refresh_token": self.seller.refresh_token, "api_endpoint": self.emulator.url,
                "lwa_endpoint": self.emulator.url, "order_prefix": "RACE-", "create_product_if_missing": True,
                "workflow_id": workflow.id})
            marketplace = env["amazon.marketplace"].create({
                "seller_id": seller.id, "reference_id": env.ref("amazon_fbm_connector.marketplace_us").id,
                "warehouse_id": self.warehouse.id})
            if forget_clearing_account:
                env["ir.model.data"].search([("module", "=", XMLID_MODULE),
                                             ("name", "=", CLEARING_XMLID % self.company.id)]).unlink()
            request = env["amazon.report.request"]._request_unshipped(
                seller, marketplace, date_from=fields.Datetime.now() - timedelta(hours=26), auto=True)
            request.action_check_status()
            request.action_check_status()
            self.assertEqual(request.state, "done", request.message)
            env["amazon.order.queue"]._create_queues(seller, "missing_unshipped", [self.scenario.orders[queued]["order"]])
            cr.commit()  # pylint: disable=invalid-commit
            return seller.id, request.id, queued

    def test_report_and_queue_create_the_clearing_account_once(self):
        seller_id, request_id, queued = self._committed_report_and_queue()
        with self.registry.cursor() as cr:
            cr.execute("SELECT count(*) FROM account_account WHERE company_id = %s", (self.company.id,))
            accounts_before = cr.fetchone()[0]
        RateLimiter.reset()
        errors = []
        runs = {"report": ("amazon.report.request", "_cron_process_reports"),
                "queue": ("amazon.order.queue", "_cron_process_queues")}
        # the queue worker creates the account first; the report meets it
        # uncommitted, waits, and is the one whose batch runs again
        with first_builds_at_once(delays={"report": 1.0}) as built:
            run_in_threads({name: partial(cron_worker, self.registry, *method, errors)
                            for name, method in runs.items()})
        self.assertFalse(errors, errors)
        self.assertEqual(built, {"report", "queue"}, "both workers built at once")
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            request = env["amazon.report.request"].browse(request_id)
            self.assertEqual(request.state, "processed", request.message)
            self.assertFalse(request.line_ids.filtered(lambda l: l.state == "failed"),
                             request.line_ids.mapped("message"))
            self.assertTrue(request.count_created, "the report's orders were imported")
            orders = env["sale.order"].search([("amazon_seller_id", "=", seller_id)])
            refs = orders.mapped("amazon_order_ref")
            self.assertEqual(len(refs), len(set(refs)), "each order once")
            queue_lines = env["amazon.order.queue.line"].search([("seller_id", "=", seller_id)])
            self.assertEqual(queue_lines.mapped("state"), ["done"], queue_lines.mapped("message"))
            self.assertIn(queued, refs, "the queue's order too")
            self.assertEqual(set(request.line_ids.sale_order_id.mapped("amazon_order_ref")) | {queued}, set(refs))
            xmlids = env["ir.model.data"].search([("module", "=", XMLID_MODULE),
                                                  ("name", "=", CLEARING_XMLID % self.company.id)])
            self.assertEqual(len(xmlids), 1)
            cr.execute("SELECT count(*) FROM account_account WHERE company_id = %s", (self.company.id,))
            self.assertEqual(cr.fetchone()[0], accounts_before + 1, "one 'Tax collected by Amazon' account")
            tax_lines = orders.order_line.tax_id.invoice_repartition_line_ids.filtered(
                lambda l: l.repartition_type == "tax")
            self.assertEqual(tax_lines.account_id, env["account.account"].browse(xmlids.res_id),
                             "both workers' orders on the one account")

    def test_a_broken_batch_releases_the_processing_lock(self):
        _seller_id, request_id, _queued = self._committed_report_and_queue(forget_clearing_account=False)

        def broken(*_args, **_kwargs):
            # any database error aborts the transaction, as a bug or a constraint would
            with mute_logger("odoo.sql_db"):
                env.cr.execute("SELECT 1 / 0")

        errors = []
        with patch.object(pipeline, "run", broken):
            try:
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
                    env["amazon.report.request"].browse(request_id)._cron_process_reports()
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
        self.assertTrue(errors, "the broken batch failed the cron job")
        # another server may take the report now (the worker's connection went back
        # to Odoo's pool, alive: a session lock on it would still be held). A connection
        # of its own, as another server's: one from the pool could be that very one.
        other = psycopg2.connect(**connection_info_for(self.env.cr.dbname)[1])
        try:
            with other.cursor() as cr:
                cr.execute("SELECT pg_try_advisory_lock(%s, %s)", (lock_namespace("report_processing"), request_id))
                self.assertTrue(cr.fetchone()[0], "the report's processing lock was released")
        finally:
            other.close()
