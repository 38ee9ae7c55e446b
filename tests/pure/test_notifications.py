"""Notifications API of the emulator and our adapter: grantless token enforced,
destinations and subscriptions found again, messages shaped like Amazon's."""
import json

import httpx
import jsonschema
import pytest
from conftest import shared_path
from test_emulator_models import validate

from services import errors
from services.notifications_adapter import NotificationsAdapter
from services.sqs_consumer import BadNotification, parse_order_change

ARN = "arn:aws:sqs:us-east-1:123456789012:amazon-orders"


@pytest.fixture
def adapter(emulator, client):
    emulator.check_queues = False   # no SQS server in the pure suite
    return NotificationsAdapter(client)


def _token(emulator, grant):
    client_id, secret = next(iter(emulator.apps.items()))
    data = {"grant_type": grant, "client_id": client_id, "client_secret": secret}
    if grant == "refresh_token":
        data["refresh_token"] = next(iter(emulator.refresh_tokens))
    else:
        data["scope"] = "sellingpartnerapi::notifications"
    return httpx.post(emulator.url + "/auth/o2/token", data=data).json()["access_token"]


def test_destinations_need_the_grantless_token(emulator):
    emulator.check_queues = False
    seller_token = _token(emulator, "refresh_token")
    body = {"name": "q", "resourceSpecification": {"sqs": {"arn": ARN}}}
    refused = httpx.post(emulator.url + "/notifications/v1/destinations", json=body,
                         headers={"x-amz-access-token": seller_token})
    assert refused.status_code == 403
    grantless = _token(emulator, "client_credentials")
    created = httpx.post(emulator.url + "/notifications/v1/destinations", json=body,
                         headers={"x-amz-access-token": grantless})
    assert created.status_code == 200
    validate("notifications.json", "CreateDestinationResponse", created.json())
    listed = httpx.get(emulator.url + "/notifications/v1/destinations",
                       headers={"x-amz-access-token": grantless})
    validate("notifications.json", "GetDestinationsResponse", listed.json())
    # ...and a grantless token opens no seller operation.
    orders = httpx.get(emulator.url + "/notifications/v1/subscriptions/ORDER_CHANGE",
                       headers={"x-amz-access-token": grantless})
    assert orders.status_code == 403


def test_subscribe_twice_creates_once(emulator, adapter, client):
    dest, sub = adapter.subscribe(ARN, ["ATVPDKIKX0DER", "A1PA6795UKMFR9"])
    again_dest, again_sub = adapter.subscribe(ARN, ["A1PA6795UKMFR9", "ATVPDKIKX0DER"])
    assert (again_dest, again_sub) == (dest, sub)
    assert client.calls["createDestination"] == 1 and client.calls["createSubscription"] == 1
    flt = sub["processingDirective"]["eventFilter"]
    assert flt["eventFilterType"] == "ORDER_CHANGE"
    assert set(flt["orderChangeTypes"]) == {"OrderStatusChange", "BuyerRequestedChange"}
    validate("notifications.json", "Subscription", sub)
    # another marketplace set: the subscription is replaced, the destination kept
    _d, other = adapter.subscribe(ARN, ["ATVPDKIKX0DER"])
    assert other["subscriptionId"] != sub["subscriptionId"]
    assert len(emulator.destinations) == 1 and len(emulator.subscriptions) == 1
    assert adapter.unsubscribe(other["subscriptionId"])
    assert not emulator.subscriptions
    assert adapter.get_subscription() is None


def test_a_second_subscription_is_a_conflict(emulator, adapter):
    dest, _sub = adapter.subscribe(ARN, ["ATVPDKIKX0DER"])
    with pytest.raises(errors.AmazonRequestError) as exc:
        adapter.create_subscription(dest["destinationId"], ["ATVPDKIKX0DER"])
    assert exc.value.status == 409


def test_event_filter_type_is_required(emulator, adapter, client):
    dest, _created = adapter.ensure_destination(ARN)
    api = adapter.api
    with pytest.raises(errors.AmazonRequestError) as exc:
        client.call("createSubscription", api.create_subscription, "ORDER_CHANGE",
                    destination_id=dest["destinationId"],
                    processingDirective={"eventFilter": {"marketplaceIds": ["ATVPDKIKX0DER"]}})
    assert exc.value.status == 400


def test_messages_match_amazons_schema(emulator, adapter, scenario):
    _dest, sub = adapter.subscribe(ARN, ["ATVPDKIKX0DER"])
    with open(shared_path("notifications", "OrderChangeNotification.json")) as fh:
        schema = json.load(fh)
    entry = next(iter(scenario.orders.values()))
    for change in ("OrderStatusChange", "BuyerRequestedChange"):
        message = emulator.order_change_message(entry, change, "x", emulator.subscriptions[
            next(iter(emulator.subscriptions))])
        jsonschema.Draft7Validator(schema).validate(message)
        parsed = parse_order_change(json.dumps(message))
        assert parsed.order_id == entry["order"]["AmazonOrderId"] and parsed.change_type == change
    assert sub["subscriptionId"]
    # Amazon's own example parses too
    parsed = parse_order_change(json.dumps(schema["examples"][0]))
    assert parsed.order_id == "903-8868176-2219830" and parsed.change_type == "BuyerRequestedChange"


@pytest.mark.parametrize("body", ["not json", "[]", json.dumps({"NotificationType": "ANY_OFFER_CHANGED"}),
                                  json.dumps({"NotificationType": "ORDER_CHANGE", "Payload": {}})])
def test_bad_messages_say_why(body):
    with pytest.raises(BadNotification):
        parse_order_change(body)


ORDERS = [("A", True), ("B", True), ("C", True)]


def test_notified_orders_are_read_with_getorder_while_its_quota_lasts():
    from services.notified_orders import plan_reads
    assert plan_reads(ORDERS, get_tokens=3.2, search_ready=True, oldest_age=999, search_age=30) == \
        ("get", ["A", "B", "C"])
    # more than the quota allows, the oldest still young: the oldest the quota allows
    assert plan_reads(ORDERS, get_tokens=2.5, search_ready=True, oldest_age=10, search_age=30) == \
        ("get", ["A", "B"])
    # no call left and nothing old: wait
    assert plan_reads(ORDERS, get_tokens=0.4, search_ready=True, oldest_age=10, search_age=30) == (None, [])
    assert plan_reads([], get_tokens=5, search_ready=True, oldest_age=0, search_age=30) == (None, [])


def test_notified_orders_wait_for_one_listing_once_the_oldest_is_old():
    from services.notified_orders import plan_reads
    assert plan_reads(ORDERS, get_tokens=1, search_ready=True, oldest_age=30, search_age=30) == \
        ("search", ["A", "B", "C"])
    # a few orders getOrder's quota reads within seconds: no listing for them
    assert plan_reads(ORDERS, get_tokens=1, search_ready=True, oldest_age=60, search_age=30,
                      get_rate=0.5) == ("get", ["A"])
    # no searchOrders call left: getOrder as its quota allows
    assert plan_reads(ORDERS, get_tokens=1, search_ready=False, oldest_age=60, search_age=30) == \
        ("get", ["A"])
    # an order a listing did not return is read with getOrder only
    orders = [("A", False), ("B", True), ("C", True)]
    assert plan_reads(orders, get_tokens=0, search_ready=True, oldest_age=60, search_age=30) == \
        ("search", ["B", "C"])
    assert plan_reads([("A", False)], get_tokens=0, search_ready=True, oldest_age=60, search_age=30) == \
        (None, [])
