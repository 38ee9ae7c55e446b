"""Reading Amazon's notifications from the seller's SQS queue, with boto3.

``SqsConsumer`` receives up to 10 messages a call with long polling and
deletes them only when told (after the Odoo transaction that used them
committed). ``parse_order_change`` reads one message body into an
``OrderChange`` (or raises ``BadNotification`` with a reason a seller can read).
No Odoo import: testable with plain pytest against any SQS-compatible server.
"""
import collections
import json
import logging

from . import errors
from .const import (
    NOTIFICATION_ORDER_CHANGE,
    SQS_MAX_MESSAGES,
    SQS_VISIBILITY_SECONDS,
    SQS_WAIT_SECONDS,
)

_logger = logging.getLogger(__name__)
# botocore logs request bodies (message contents) and signed headers at DEBUG.
logging.getLogger("botocore").setLevel(logging.INFO)


class BadNotification(ValueError):
    """A message that is not an ORDER_CHANGE notification we can use."""


OrderChange = collections.namedtuple(
    "OrderChange", "notification_id order_id change_type status marketplace_id event_time "
                   "seller_id reason")

Message = collections.namedtuple("Message", "message_id receipt_handle body receive_count sent_at",
                                 defaults=(None,))   # sent_at: SQS's SentTimestamp (epoch seconds)


def parse_order_change(body):
    """An SQS message body -> ``OrderChange``. Amazon sends the notification JSON
    as the body itself (payload version 1.0)."""
    try:
        data = json.loads(body)
    except (TypeError, ValueError):
        raise BadNotification("the message is not JSON") from None
    if not isinstance(data, dict):
        raise BadNotification("the message is not a JSON object")
    kind = data.get("NotificationType")
    if kind != NOTIFICATION_ORDER_CHANGE:
        raise BadNotification("not an ORDER_CHANGE notification (NotificationType %r)" % (kind,))
    change = ((data.get("Payload") or {}).get("OrderChangeNotification")) or {}
    order_id = change.get("AmazonOrderId")
    if not order_id:
        raise BadNotification("the notification names no AmazonOrderId")
    summary = change.get("Summary") or {}
    trigger = change.get("OrderChangeTrigger") or {}
    meta = data.get("NotificationMetadata") or {}
    return OrderChange(
        notification_id=meta.get("NotificationId") or "",
        order_id=order_id,
        change_type=change.get("OrderChangeType") or "",
        status=summary.get("OrderStatus") or "",
        marketplace_id=summary.get("MarketplaceId") or "",
        event_time=trigger.get("TimeOfOrderChange") or data.get("EventTime") or "",
        seller_id=change.get("SellerId") or "",
        reason=trigger.get("ChangeReason") or "",
    )


def _epoch(millis):
    try:
        return int(millis) / 1000.0
    except (TypeError, ValueError):
        return None


def queue_arn_from_url(url, region):
    """``https://sqs.REGION.amazonaws.com/ACCOUNT/NAME`` -> the queue's ARN (what
    GetQueueAttributes says, without a call)."""
    parts = url.rstrip("/").split("/")
    if len(parts) < 2:
        raise ValueError("not an SQS queue URL: %s" % url)
    return "arn:aws:sqs:%s:%s:%s" % (region, parts[-2], parts[-1])


class SqsConsumer:
    """One seller's queue. ``endpoint``: an SQS-compatible server (empty: AWS).
    Without keys, boto3 uses the server's own AWS identity (role, environment)."""

    def __init__(self, queue_url, region, *, endpoint=None, access_key_id=None,
                 secret_access_key=None, wait_seconds=SQS_WAIT_SECONDS,
                 visibility_seconds=SQS_VISIBILITY_SECONDS, timeout=30):
        import boto3
        from botocore.config import Config
        self.queue_url = queue_url
        self.region = region
        self.wait_seconds = wait_seconds
        self.visibility_seconds = visibility_seconds
        kwargs = {"region_name": region, "config": Config(
            connect_timeout=10, read_timeout=max(timeout, wait_seconds + 10),
            retries={"max_attempts": 3, "mode": "standard"})}
        if endpoint:
            kwargs["endpoint_url"] = endpoint
        if access_key_id:
            kwargs["aws_access_key_id"] = access_key_id
            kwargs["aws_secret_access_key"] = secret_access_key
        self._sqs = boto3.session.Session().client("sqs", **kwargs)
        self.calls = collections.Counter()

    def _call(self, name, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError
        self.calls[name] += 1
        try:
            return getattr(self._sqs, name)(**kwargs)
        except ClientError as exc:
            err = exc.response.get("Error") or {}
            raise errors.AmazonRequestError(
                "The SQS queue %s refused %s: %s (%s). Check the queue URL, its region and the "
                "AWS credentials of the seller." % (self.queue_url, name, err.get("Message") or "",
                                                    err.get("Code") or ""),
                operation="sqs:%s" % name, amazon_code=err.get("Code")) from None
        except BotoCoreError as exc:
            raise errors.AmazonUnreachable(
                "The SQS queue %s could not be reached (%s); the notifications wait on the "
                "queue and are read on the next run." % (self.queue_url, exc),
                operation="sqs:%s" % name) from None

    def queue_arn(self):
        res = self._call("get_queue_attributes", QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        return res["Attributes"]["QueueArn"]

    def waiting(self):
        """How many messages wait on the queue (SQS's approximate count)."""
        res = self._call("get_queue_attributes", QueueUrl=self.queue_url,
                         AttributeNames=["ApproximateNumberOfMessages"])
        return int(res["Attributes"].get("ApproximateNumberOfMessages") or 0)

    def receive_many(self, count, wait_seconds=None):
        """Up to ``count`` messages, 10 a call, without waiting once the queue is empty
        (``wait_seconds``: the long poll of the first call, default the consumer's).
        A message received twice (its visibility ran out) is kept once, with its
        latest receipt, and ends the reading."""
        messages = {m.message_id: m for m in self.receive(min(count, SQS_MAX_MESSAGES),
                                                          wait_seconds=wait_seconds)}
        while messages and len(messages) < count:
            more = self.receive(min(count - len(messages), SQS_MAX_MESSAGES), wait_seconds=0)
            again = any(m.message_id in messages for m in more)
            messages.update((m.message_id, m) for m in more)
            if not more or again:
                break
        return list(messages.values())

    def receive(self, max_messages=SQS_MAX_MESSAGES, wait_seconds=None):
        """Up to ``max_messages`` (10 at most) messages, waiting up to
        ``wait_seconds`` for the first (long polling)."""
        res = self._call("receive_message", QueueUrl=self.queue_url,
                         MaxNumberOfMessages=max(1, min(max_messages, SQS_MAX_MESSAGES)),
                         WaitTimeSeconds=self.wait_seconds if wait_seconds is None else wait_seconds,
                         VisibilityTimeout=self.visibility_seconds,
                         MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"])
        return [Message(m["MessageId"], m["ReceiptHandle"], m.get("Body") or "",
                        int((m.get("Attributes") or {}).get("ApproximateReceiveCount") or 1),
                        _epoch((m.get("Attributes") or {}).get("SentTimestamp")))
                for m in res.get("Messages") or []]

    def release(self, messages):
        """Make received messages visible again at once (read but not applied: the next
        run reads them without waiting for the visibility timeout)."""
        messages = list(messages)
        for start in range(0, len(messages), SQS_MAX_MESSAGES):
            chunk = messages[start:start + SQS_MAX_MESSAGES]
            self._call("change_message_visibility_batch", QueueUrl=self.queue_url, Entries=[
                {"Id": str(n), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": 0}
                for n, m in enumerate(chunk)])

    def delete(self, messages):
        """Delete messages (after their work committed); returns the ids SQS failed to delete."""
        failed = []
        messages = list(messages)
        for start in range(0, len(messages), SQS_MAX_MESSAGES):
            chunk = messages[start:start + SQS_MAX_MESSAGES]
            res = self._call("delete_message_batch", QueueUrl=self.queue_url, Entries=[
                {"Id": str(n), "ReceiptHandle": m.receipt_handle} for n, m in enumerate(chunk)])
            failed += [chunk[int(f["Id"])].message_id for f in res.get("Failed") or []]
        if failed:
            # Not fatal: the message comes back and is applied again (harmless).
            _logger.warning("SQS did not delete %d message(s); they will be read again.", len(failed))
        return failed
