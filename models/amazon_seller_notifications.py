import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..services import errors, notified_orders
from ..services.const import (
    INCLUDED_DATA_SHIPPED,
    NOTIFIED_ORDERS_BACKLOG_READ,
    NOTIFIED_ORDERS_SEARCH_THRESHOLD,
    ORDERS_API_V0,
    SQS_MAX_RECEIVES,
    SQS_VISIBILITY_SECONDS,
    SQS_WAIT_SECONDS,
)
from ..services.normalize import parse_datetime
from ..services.runner import RECORDABLE_ERRORS, Runner
from ..services.sqs_consumer import BadNotification, SqsConsumer, parse_order_change
from .amazon_seller import MANAGER, _secret_box

_logger = logging.getLogger(__name__)
CRON = "amazon_fbm_connector.ir_cron_amazon_notifications"


class AmazonSeller(models.Model):
    _inherit = "amazon.seller"

    # === FIELDS ===
    sqs_queue_url = fields.Char(
        "SQS Queue URL", tracking=True,
        help="The Amazon SQS queue Amazon sends this seller's order notifications to, e.g. "
             "https://sqs.us-east-1.amazonaws.com/123456789012/amazon-orders. Its access policy "
             "must let Amazon's notification service (account 437568002678) send messages.")
    sqs_region = fields.Char(
        "SQS Region", default="us-east-1", tracking=True,
        help="The AWS region of the queue (the part after 'sqs.' in its URL).")
    sqs_endpoint = fields.Char(
        "SQS Endpoint", tracking=True,
        help="Leave empty for AWS. Set it only to use an SQS-compatible server (a local test "
             "server on http://127.0.0.1:PORT).")
    aws_access_key_id = fields.Char(
        "AWS Access Key ID", tracking=True, groups=MANAGER,
        help="The access key of an AWS user allowed to read and delete messages of the queue "
             "(sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes). Leave empty to "
             "use the Odoo server's own AWS identity (instance role, environment).")
    aws_secret_access_key = fields.Char(
        "AWS Secret Access Key", compute="_compute_aws_secret", inverse="_inverse_aws_secret",
        groups=MANAGER, help="The secret of that access key. Stored encrypted.")
    aws_secret_access_key_enc = fields.Char(copy=False, groups=MANAGER)
    notification_state = fields.Selection(
        [("off", "Not Subscribed"), ("subscribed", "Subscribed"), ("failed", "Failed")],
        string="Order Notifications", default="off", required=True, copy=False, readonly=True,
        tracking=True, help="Whether Amazon sends this seller's order changes to the SQS queue.")
    notifications_since = fields.Datetime("Subscribed Since", copy=False, readonly=True)
    notification_last_message = fields.Datetime(
        "Last Notification", compute="_compute_notification_stats",
        help="When Odoo last applied a notification read from the queue.")
    notification_error = fields.Text("Notification Problem", copy=False, readonly=True,
                                     help="The last error met while reading the queue, if any.")
    notification_destination_ref = fields.Char("Amazon Destination ID", copy=False, readonly=True)
    notification_subscription_ref = fields.Char("Amazon Subscription ID", copy=False, readonly=True)
    notification_safety_hours = fields.Integer(
        "Safety Net Listing Every (Hours)", default=1,
        help="With notifications on, the scheduled listing of orders Amazon updated runs only "
             "this often, to catch anything a lost notification missed (imports and status "
             "changes alike).")
    notification_safety_next_run = fields.Datetime("Next Safety Net Listing", copy=False)
    notification_safety_cursor = fields.Datetime(
        "Safety Net Synced Until", copy=False, readonly=True,
        help="lastUpdatedAfter of the next safety-net listing.")
    notification_ids = fields.One2many("amazon.notification", "seller_id")
    notification_dropped_count = fields.Integer(compute="_compute_notification_stats")

    # === COMPUTE METHODS ===
    def _compute_aws_secret(self):
        if not (self.env.su or self.env.user.has_group(MANAGER)):
            raise AccessError(_("Only Amazon managers may read a seller's AWS secret access key."))
        box = None
        for seller in self:
            enc = seller.sudo().aws_secret_access_key_enc
            if enc and box is None:
                box = _secret_box()
            seller.aws_secret_access_key = box.decrypt(enc) if enc else False

    def _inverse_aws_secret(self):
        box = _secret_box()
        for seller in self:
            seller.sudo().aws_secret_access_key_enc = box.encrypt(seller.aws_secret_access_key)

    def _compute_notification_stats(self):
        # Read from the notifications: the batches never write the seller's row, which
        # two servers reading one queue would otherwise both update.
        Notification = self.env["amazon.notification"]
        dropped = dict(Notification._read_group(
            [("seller_id", "in", self.ids), ("state", "=", "dropped")], ["seller_id"], ["__count"]))
        last = dict(Notification._read_group(
            [("seller_id", "in", self.ids), ("state", "=", "done")], ["seller_id"], ["create_date:max"]))
        for seller in self:
            seller.notification_dropped_count = dropped.get(seller, 0)
            seller.notification_last_message = last.get(seller, False)

    # === ACTION METHODS ===
    def action_subscribe_notifications(self):
        """Destination (the queue) and ORDER_CHANGE subscription on Amazon: a few calls,
        found again when they exist, so the button may be pressed any number of times."""
        self.ensure_one()
        seller = self.sudo()
        if seller.orders_api_version == ORDERS_API_V0:
            raise UserError(_("Order notifications read each notified order with Orders API "
                              "2026-01-01: set the seller's Orders API Version to 2026-01-01 first."))
        if not seller.marketplace_ids:
            raise UserError(_("Add the seller's marketplaces first: the subscription names them."))
        try:
            consumer = seller._sqs_consumer()
            arn = consumer.queue_arn()
            destination, subscription = seller._get_client(interactive=True).notifications().subscribe(
                arn, seller.marketplace_ids.mapped("amazon_marketplace_id"))
        except errors.AmazonError as exc:
            message = _("Subscribing to order notifications failed: %s", str(exc))
            seller.write({"notification_state": "failed", "notification_error": str(exc)})
            seller.message_post(subtype_xmlid="mail.mt_note", body=message)
            # A notification, not an error: the failed state and the note are kept.
            return {"type": "ir.actions.client", "tag": "display_notification",
                    "params": {"title": _("Amazon"), "type": "danger", "sticky": True, "message": message,
                               "next": {"type": "ir.actions.client", "tag": "soft_reload"}}}
        values = {"notification_state": "subscribed", "notification_error": False,
                  "notification_destination_ref": destination["destinationId"],
                  "notification_subscription_ref": subscription["subscriptionId"]}
        if seller.notification_state != "subscribed" or not seller.notifications_since:
            values["notifications_since"] = fields.Datetime.now()
        if not seller.notification_safety_cursor:
            # The safety net starts from where the status sync got, else now.
            values["notification_safety_cursor"] = seller.fbm_status_sync_cursor or fields.Datetime.now()
        seller.write(values)
        message = _("Subscribed to Amazon's order notifications: new orders, shipments, "
                    "cancellations and buyers' cancellation requests arrive through the SQS "
                    "queue within about a minute.")
        seller.message_post(subtype_xmlid="mail.mt_note", body=message)
        self._wake_consumer()
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": _("Amazon"), "message": message, "type": "success", "sticky": False}}

    def action_unsubscribe_notifications(self):
        self.ensure_one()
        seller = self.sudo()
        try:
            seller._get_client(interactive=True).notifications().unsubscribe(
                seller.notification_subscription_ref)
        except errors.AmazonError as exc:
            raise UserError(_("Unsubscribing from order notifications failed: %s", str(exc))) from None
        seller.write({"notification_state": "off", "notification_subscription_ref": False,
                      "notifications_since": False, "notification_error": False})
        message = _("Unsubscribed from Amazon's order notifications: the scheduled listings take "
                    "over again. Messages still on the queue are left there.")
        seller.message_post(subtype_xmlid="mail.mt_note", body=message)
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": _("Amazon"), "message": message, "type": "info", "sticky": False}}

    def action_view_notifications(self):
        self.ensure_one()
        return {"type": "ir.actions.act_window", "name": _("Order Notifications"),
                "res_model": "amazon.notification", "view_mode": "tree,form",
                "domain": [("seller_id", "=", self.id)], "context": {"search_default_dropped": 1}}

    # === BUSINESS METHODS ===
    def _sqs_consumer(self):
        self.ensure_one()
        seller = self.sudo()
        if not seller.sqs_queue_url:
            raise UserError(_("Seller %s has no SQS queue URL.", seller.name))
        params = self.env["ir.config_parameter"].sudo()
        return SqsConsumer(
            seller.sqs_queue_url, seller.sqs_region or "us-east-1", endpoint=seller.sqs_endpoint or None,
            access_key_id=seller.aws_access_key_id or None,
            secret_access_key=seller.aws_secret_access_key or None,
            wait_seconds=int(params.get_param("amazon_fbm_connector.sqs_wait_seconds", SQS_WAIT_SECONDS)),
            visibility_seconds=int(params.get_param("amazon_fbm_connector.sqs_visibility_seconds",
                                                    SQS_VISIBILITY_SECONDS)))

    def _wake_consumer(self):
        cron = self.env.ref(CRON, raise_if_not_found=False)
        if cron and cron.active:
            cron.sudo()._trigger()

    def _notifications_on(self):
        return self.notification_state == "subscribed"

    @api.model
    def _cron_consume_notifications(self):
        """Read every subscribed seller's queue until it is empty or the run nears
        Odoo's time limit; then the safety-net listing of the sellers it is due for."""
        runner = Runner(self.env, cron=CRON)
        for seller in self.search([("notification_state", "=", "subscribed")]):
            if runner.out_of_time():
                runner.trigger()
                break
            try:
                seller._consume_notifications(runner)
            except errors.AmazonOutOfTime:
                runner.trigger()
                break
            except RECORDABLE_ERRORS as exc:
                # The queue could not be read: its messages wait there for the next run.
                runner.rollback()
                seller.sudo().notification_error = str(exc)
                runner.commit()
                _logger.info("amazon notifications: seller %s: %s", seller.id, exc)
            due = seller.notification_safety_next_run
            if (not due or due <= fields.Datetime.now()) and not runner.out_of_time():
                seller._run_safety_net(runner)
        return True

    def _consume_notifications(self, runner):
        """Receive, apply, commit, then delete: a message leaves the queue only once
        the transaction that used it committed. A batch Amazon fails stays on the queue
        and comes back after the visibility timeout (until its receive bound)."""
        self.ensure_one()
        consumer = self._sqs_consumer()
        max_receives = int(self.env["ir.config_parameter"].sudo().get_param(
            "amazon_fbm_connector.sqs_max_receives", SQS_MAX_RECEIVES))
        client = runner.client(self)
        while not runner.out_of_time():
            # A backlog (more waiting than a searchOrders page holds) is read a page at a
            # time and listed; otherwise 10 messages at a time, one getOrder each.
            backlog = consumer.waiting() > NOTIFIED_ORDERS_SEARCH_THRESHOLD
            messages = consumer.receive_many(NOTIFIED_ORDERS_BACKLOG_READ) \
                if backlog else consumer.receive()
            if not messages:
                break
            done = runner.run_batch(self._apply_notification_messages, messages, client, max_receives,
                                    search=backlog, on_error=self._notifications_failed)
            if done:
                consumer.delete(done)
        return True

    def _notifications_failed(self, exc):
        if isinstance(exc, errors.AmazonOutOfTime):
            raise exc
        # Nothing deleted: the messages come back after the visibility timeout.
        self.sudo().notification_error = _("Applying notifications failed (they will be read "
                                           "again): %s", str(exc))

    def _run_safety_net(self, runner):
        self.ensure_one()
        self.sudo().notification_safety_next_run = fields.Datetime.now() + timedelta(
            hours=max(self.notification_safety_hours or 1, 1))
        runner.commit()
        runner.run_batch(self._notification_safety_net, runner, on_error=self._safety_net_failed)

    def _safety_net_failed(self, exc):
        if isinstance(exc, errors.AmazonOutOfTime):
            # The cursor did not move: the next pass lists the window again.
            self.sudo().notification_safety_next_run = False
            self.env.ref(CRON)._trigger()
            return
        self.sudo().message_post(subtype_xmlid="mail.mt_note", body=_(
            "The safety-net listing of Amazon orders failed: %s", str(exc)))

    def _apply_notification_messages(self, messages, client, max_receives, search=False):
        """A work unit (no commit): apply a batch of SQS messages; returns the
        messages to delete once it committed."""
        self.ensure_one()
        seller = self.sudo()
        Notification = self.env["amazon.notification"].sudo()
        parsed = []
        for message in messages:
            try:
                parsed.append((message, parse_order_change(message.body), None))
            except BadNotification as exc:
                parsed.append((message, None, str(exc)))
        refs = [_ref(m, c) for m, c, _e in parsed]
        seen = set(Notification.search([("seller_id", "=", seller.id),
                                        ("notification_ref", "in", refs)]).mapped("notification_ref"))
        done, fresh = [], []
        for message, change, problem in parsed:
            ref = _ref(message, change)
            if ref in seen:
                done.append(message)   # a duplicate, or recorded already: nothing to do
                continue
            seen.add(ref)
            if message.receive_count > max_receives:
                # Received again and again without being applied: record it and let go.
                self._drop(message, problem or _(
                    "received %(count)s times without being applied; last problem: %(err)s",
                    count=message.receive_count, err=seller.notification_error or _("none recorded")),
                    change)
                done.append(message)
            elif problem:
                seller._set_notification_error(_(
                    "A message on the queue is not an order notification (%(problem)s); it is "
                    "dropped once received %(count)s times.", problem=problem, count=max_receives + 1))
            else:
                fresh.append((message, change))
        if fresh:
            adapter = client.orders()
            codes = seller.marketplace_ids.mapped("amazon_marketplace_id")
            changed = {}
            for _m, c in fresh:
                when = notified_orders.changed_at(c.event_time)
                if when and (c.order_id not in changed or when < changed[c.order_id]):
                    changed[c.order_id] = when
            payloads, unknown, later = notified_orders.read_orders(
                adapter, [c.order_id for _m, c in fresh], codes, changed_at=changed, search=search)
            # Too recent for the backlog's listing: left on the queue, listed next time.
            fresh = [(m, c) for m, c in fresh if c.order_id not in later]
            _counts, problems = notified_orders.apply_orders(seller, list(payloads.values()), client)
            Notification.create([{
                "seller_id": seller.id, "notification_ref": _ref(message, change),
                "amazon_order_ref": change.order_id, "change_type": change.change_type,
                "amazon_status": change.status, "receive_count": message.receive_count,
                "event_time": notified_orders.changed_at(change.event_time) or False, "state": "done",
                "message": problems.get(change.order_id) or (
                    _("Amazon does not know this order.") if change.order_id in unknown else False),
            } for message, change in fresh])
            if seller.notification_error:
                seller.notification_error = False
            done += [m for m, _c in fresh]
        return done

    def _set_notification_error(self, text):
        if self.sudo().notification_error != text:
            self.sudo().notification_error = text

    def _drop(self, message, reason, change=None):
        _logger.warning("amazon notifications: seller %s dropped SQS message %s: %s",
                        self.id, message.message_id, reason)
        self.env["amazon.notification"].sudo().create({
            "seller_id": self.id, "notification_ref": _ref(message, change),
            "amazon_order_ref": change.order_id if change else False,
            "change_type": change.change_type if change else False,
            "amazon_status": change.status if change else False,
            "event_time": (change and notified_orders.changed_at(change.event_time)) or False,
            "state": "dropped", "message": reason, "body": message.body[:100000],
            "receive_count": message.receive_count,
        })

    def _notification_safety_net(self, runner=None):
        """The one scheduled listing while notifications are on: the orders Amazon
        updated since the cursor, read once with everything an import needs, and applied
        like notified orders (imports and status alike)."""
        self.ensure_one()
        seller = self.sudo()
        started = fields.Datetime.now()
        cursor = seller.notification_safety_cursor or seller.fbm_status_sync_cursor
        since = cursor - timedelta(minutes=10) if cursor else started - timedelta(days=seller.import_days or 30)
        client = runner.client(seller) if runner else seller._get_client()
        adapter = client.orders()
        payloads = list(adapter.search_orders(seller.marketplace_ids.mapped("amazon_marketplace_id"),
                                              last_updated_after=since, included_data=INCLUDED_DATA_SHIPPED))
        counts, _problems = notified_orders.apply_orders(seller, payloads, client)
        end = parse_datetime(adapter.window_end) if adapter.window_end else started - timedelta(minutes=2)
        if not cursor or end > cursor:
            seller.notification_safety_cursor = end
            # The status sync, were notifications turned off, continues from here.
            seller.fbm_status_sync_cursor = end
        return counts

    # The status sync's own listing is the safety net's while notifications are on.
    def _sync_order_status(self, runner=None):
        if self.env.context.get("amazon_status_sync_cron") and self._notifications_on():
            return {"cancelled": 0, "cancelled_shipped": 0, "reduced": 0, "requests": 0, "updated": 0}
        return super()._sync_order_status(runner)

    @api.model
    def _cron_amazon_status_sync(self):
        return super(AmazonSeller, self.with_context(amazon_status_sync_cron=True))._cron_amazon_status_sync()


def _ref(message, change):
    """Amazon's NotificationId; the SQS message id for what is not a notification."""
    return (change and change.notification_id) or "sqs:" + message.message_id
