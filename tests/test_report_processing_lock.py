"""Two Odoo servers never process one Sale Order Report at once: while another
connection (another server's cron worker) holds the report's processing lock, the
scheduler passes it by and the button says so; once released, it processes."""
from odoo import sql_db
from odoo.tests import tagged

from ..services.runner import lock_namespace
from .common import AmazonCase

PROCESS_LOCK_KEY = lock_namespace("report_processing")


@tagged("post_install", "-at_install")
class TestReportProcessingLock(AmazonCase):

    def _done_request(self):
        self.add_us_order()
        request = self.env["amazon.report.request"]._request_unshipped(self.seller, self.mp_us, auto=True)
        request.action_check_status()
        request.action_check_status()
        self.assertEqual(request.state, "done", request.message)
        return request

    def test_a_report_held_by_another_worker_is_left_to_it(self):
        request = self._done_request()
        with sql_db.db_connect(self.env.cr.dbname).cursor() as other:   # another server's connection
            other.execute("SELECT pg_try_advisory_lock(%s, %s)", (PROCESS_LOCK_KEY, request.id))
            self.assertTrue(other.fetchone()[0])
            self.env["amazon.report.request"]._cron_process_reports()
            self.assertEqual(request.state, "done", "the scheduler left it to the worker holding it")
            self.assertFalse(request.line_ids)
            # the button hands it to the scheduler, which still leaves it to the holder
            action = request.action_process_file()
            self.assertEqual(action["tag"], "display_notification")
            self.env["amazon.report.request"]._cron_process_reports()
            self.assertEqual(request.state, "done")
            self.assertFalse(request.line_ids)
            other.execute("SELECT pg_advisory_unlock(%s, %s)", (PROCESS_LOCK_KEY, request.id))
        self.env["amazon.report.request"]._cron_process_reports()
        self.assertEqual(request.state, "processed")
        self.assertEqual(request.count_created, 1)
        # the lock is released after processing: a second press reprocesses nothing new
        self.process_file(request)
        self.assertEqual(request.state, "processed")
        self.assertEqual(len(request.line_ids), 1)
