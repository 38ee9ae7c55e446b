from datetime import timedelta

from odoo import _, api, fields, models

from ..services import errors
from ..services.listings_feed import parse_report

# A feed Amazon has not processed after this long is given up (its offers wait for
# the seller's Resend): Amazon usually answers within minutes.
FEED_TIMEOUT_HOURS = 4
FEED_STATES = [("submitted", "Submitted"), ("done", "Done"), ("fatal", "Fatal"),
               ("cancelled", "Cancelled")]


class AmazonStockFeed(models.Model):
    """One JSON_LISTINGS_FEED of FBM quantities sent to Amazon, until its processing report."""

    _name = "amazon.stock.feed"
    _description = "Amazon Stock Feed"
    _order = "id desc"
    _rec_name = "amazon_feed_id"

    # === FIELDS ===
    marketplace_id = fields.Many2one("amazon.marketplace", required=True, ondelete="cascade",
                                     index=True, readonly=True)
    seller_id = fields.Many2one(related="marketplace_id.seller_id", store=True)
    company_id = fields.Many2one(related="marketplace_id.company_id", store=True)
    amazon_feed_id = fields.Char("Amazon Feed ID", required=True, readonly=True, index=True)
    state = fields.Selection(FEED_STATES, required=True, default="submitted", readonly=True,
                             index=True)
    message_count = fields.Integer("SKUs", readonly=True)
    accepted_count = fields.Integer("Accepted", readonly=True)
    invalid_count = fields.Integer("Rejected", readonly=True)
    result = fields.Text("Amazon's Report", readonly=True,
                         help="What Amazon's processing report says of the feed as a whole.")
    done_date = fields.Datetime("Processed On", readonly=True)
    offer_ids = fields.One2many("amazon.stock.offer", "feed_id", string="Offers", readonly=True)

    # === BUSINESS METHODS ===
    @api.model
    def _check_feeds(self, runner):
        """Poll the feeds in flight; a processed one gives each offer Amazon's answer."""
        from .amazon_stock_offer import _run
        clients = {}
        for feed in self.sudo().search([("state", "=", "submitted")], order="id"):
            if runner.out_of_time():
                runner.trigger()
                return
            seller = feed.marketplace_id.seller_id
            if seller not in clients:
                clients[seller] = runner.client(seller)

            def failed(exc, feed=feed):
                feed.sudo().write({"result": str(exc)})
            _run(runner, feed._check, clients[seller], on_error=failed)

    def _check(self, client):
        """One unit: getFeed, and the processing report once Amazon is done."""
        self.ensure_one()
        self.env.flush_all()
        # A claim inside the runner's batch (row locks, SKIP LOCKED): released by its commit.
        self.env.cr.execute("SELECT id FROM amazon_stock_feed WHERE id = %s AND state = 'submitted' "
                            "FOR UPDATE SKIP LOCKED", (self.id,))
        if not self.env.cr.fetchone():
            return False
        feeds = client.feeds()
        try:
            status = feeds.status(self.amazon_feed_id)
        except errors.AmazonOutOfTime:
            return False
        if status.state == "pending":
            if self.create_date < fields.Datetime.now() - timedelta(hours=FEED_TIMEOUT_HOURS):
                self._give_up(_("Amazon had not processed feed %(feed)s after %(hours)s hours.",
                                feed=self.amazon_feed_id, hours=FEED_TIMEOUT_HOURS), "cancelled")
            return True
        if status.state == "cancelled":
            self._give_up(_("Amazon cancelled feed %s before processing it.", self.amazon_feed_id),
                          "cancelled", resend=True)
            return True
        report = None
        if status.result_document_id:
            try:
                report = parse_report(feeds.result(status.result_document_id))
            except errors.AmazonOutOfTime:
                return False
            except errors.AmazonDocumentError as exc:
                if status.state == "done":
                    raise
                self.result = str(exc)
        general = " ".join(str(i) for i in (report.general_errors if report else ()))
        if status.state == "fatal":
            self._give_up(_("Amazon aborted feed %(feed)s (FATAL)%(why)s. Some, none or all of "
                            "its quantities may have reached Amazon.", feed=self.amazon_feed_id,
                            why=": %s" % general if general else ""), "fatal")
            return True
        self._apply_report(report, general)
        return True

    def _apply_report(self, report, general):
        accepted = rejected = 0
        for offer in self.offer_ids.filtered(lambda o: o.state == "pending"):
            problems = report.errors_of(offer.feed_message_id) if report else []
            if report is None:
                problems = [_("Amazon sent no processing report for feed %s.", self.amazon_feed_id)]
            elif general:
                problems = problems or [general]
            if problems:
                offer._rejected(offer.sent_quantity, [str(p) for p in problems])
                rejected += 1
            else:
                offer._accepted(offer.sent_quantity)
                accepted += 1
        self.write({"state": "done", "accepted_count": accepted, "invalid_count": rejected,
                    "done_date": fields.Datetime.now(), "result": general or False})

    def _give_up(self, message, state, resend=False):
        offers = self.offer_ids.filtered(lambda o: o.state == "pending")
        if resend:
            offers.write({"state": "new", "to_send": True, "message": message})
        else:
            offers.write({"state": "error", "to_send": False, "message": "%s %s" % (
                message, _("Press Resend to send them again; Odoo also sends a SKU again when "
                           "its quantity changes."))})
        self.write({"state": state, "result": message, "done_date": fields.Datetime.now(),
                    "invalid_count": len(offers)})
