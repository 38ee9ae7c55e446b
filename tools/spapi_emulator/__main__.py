"""``python -m tools.spapi_emulator --port 8765 --orders 40``: serve a demo story."""
import argparse

from .scenario import Scenario
from .server import Emulator


def main():
    parser = argparse.ArgumentParser(description="SP-API emulator on loopback")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--orders", type=int, default=40)
    parser.add_argument("--shipped-ratio", type=float, default=0.3)
    parser.add_argument("--rate-scale", type=float, default=20.0)
    args = parser.parse_args()
    scenario = Scenario.generate(args.orders, shipped_ratio=args.shipped_ratio, skus=[
        "DEMO-MUG", "DEMO-TSHIRT", "DEMO-KIT", "DEMO-POSTER", "DEMO-CAP"])
    emulator = Emulator(scenario, port=args.port, rate_scale=args.rate_scale)
    print("SP-API emulator on http://127.0.0.1:%d (client id %s, secret %s, refresh token %s)"
          % (args.port, *next(iter(emulator.apps.items())), next(iter(emulator.refresh_tokens))),
          flush=True)
    emulator.serve_forever()


if __name__ == "__main__":
    main()
