"""``python -m tools.spapi_emulator --port 8765 --orders 40``: serve a demo story."""
import argparse
import random
from datetime import datetime, timezone
from decimal import Decimal

from .authorization import DEFAULT_APP_ID
from .scenario import Scenario
from .server import Emulator


def main():
    parser = argparse.ArgumentParser(description="SP-API emulator on loopback")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--orders", type=int, default=40)
    parser.add_argument("--shipped-ratio", type=float, default=0.3)
    parser.add_argument("--rate-scale", type=float, default=20.0)
    parser.add_argument("--sqs-endpoint", default=None,
                        help="the SQS server ORDER_CHANGE notifications are sent to (default: "
                             "$AMAZON_FBM_SQS_ENDPOINT, else AWS)")
    parser.add_argument("--live", type=float, default=0,
                        help="place a new order every LIVE seconds (0: never)")
    parser.add_argument("--merchant-id", default="A1DEMOSELLER",
                        help="the selling partner signed in to Seller Central (the demo seller's)")
    parser.add_argument("--app-id", default=DEFAULT_APP_ID, help="the SP-API application's id")
    parser.add_argument("--redirect-uri", action="append", default=[],
                        help="an OAuth Redirect URI of the application (repeatable); the consent "
                             "page refuses any other")
    args = parser.parse_args()
    skus = ["DEMO-MUG", "DEMO-TSHIRT", "DEMO-KIT", "DEMO-POSTER", "DEMO-CAP"]
    scenario = Scenario.generate(args.orders, shipped_ratio=args.shipped_ratio, skus=skus)
    emulator = Emulator(scenario, port=args.port, rate_scale=args.rate_scale,
                        sqs_endpoint=args.sqs_endpoint, merchant_id=args.merchant_id)
    emulator.register_application(args.app_id, name="Odoo Amazon FBM Connector (demo)",
                                  redirect_uris=args.redirect_uri)
    for sku in skus:   # the demo seller's FBM offers on Amazon.com (Stock on Amazon)
        emulator.add_listing(sku, "ATVPDKIKX0DER", product_type="HOME", quantity=0, lead_time=2)
    # a buyer returns an item of the newest shipped order, refunded by Amazon (returns report)
    shipped = [oid for oid, entry in scenario.orders.items() if entry["order"]["OrderStatus"] == "Shipped"]
    if shipped:
        item = scenario.orders[shipped[0]]["items"][0]
        emulator.add_return(shipped[0], [{"sku": item["SellerSKU"], "qty": 1}], refunded="full")
    emulator.start_publisher(interval=0.5, live_every=args.live or None,
                             live_factory=lambda: live_order(scenario, skus))
    print("SP-API emulator on http://127.0.0.1:%d (client id %s, secret %s, refresh token %s)"
          % (args.port, *next(iter(emulator.apps.items())), next(iter(emulator.refresh_tokens))),
          flush=True)
    emulator.serve_forever()


LIVE_RANDOM = random.Random(11)


def live_order(scenario, skus, rnd=LIVE_RANDOM):
    """A new unshipped order placed now (the demo's live mode)."""
    lines = []
    for sku in rnd.sample(skus, rnd.randint(1, 2)):
        qty = rnd.randint(1, 3)
        price = Decimal(rnd.randint(500, 4999)) / 100 * qty
        lines.append({"sku": sku, "qty": qty, "price": str(price),
                      "tax": str((price * Decimal("0.0825")).quantize(Decimal("0.01")))})
    now = datetime.now(timezone.utc).replace(microsecond=0)
    return scenario.add_order(items=lines, purchase_date=now, buyer_name="Live Buyer %d" % rnd.randint(1, 999))


if __name__ == "__main__":
    main()
