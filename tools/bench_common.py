"""Shared set-up of the benchmarks (run inside ``odoo-bin shell`` by tools/bench.sh)."""
import time

from odoo.addons.amazon_fbm_connector.services.rate_limit import RateLimiter

US = "ATVPDKIKX0DER"
SKUS = ["SKU-%04d" % n for n in range(1, 41)]


def setup(env, emulator=None, name="Bench seller"):
    """Company, taxes, products, workflow and a seller (committed once)."""
    env.company.country_id = env.ref("base.us")
    tax = env["account.tax"].search([("name", "=", "Bench Sales Tax 8.25%")], limit=1) or \
        env["account.tax"].create({"name": "Bench Sales Tax 8.25%", "amount": 8.25,
                                   "amount_type": "percent", "type_tax_use": "sale"})
    Product = env["product.product"]
    existing = set(Product.search([("default_code", "in", SKUS)]).mapped("default_code"))
    Product.create([{"name": "Bench %s" % sku, "default_code": sku, "detailed_type": "product",
                     "taxes_id": [(6, 0, tax.ids)]} for sku in SKUS if sku not in existing])
    workflow = env["amazon.sale.workflow"].search([("name", "=", "Bench confirm+invoice+post")], limit=1) or \
        env["amazon.sale.workflow"].create({"name": "Bench confirm+invoice+post", "confirm_order": True,
                                            "create_invoice": True, "validate_invoice": True})
    seller = env["amazon.seller"].search([("name", "=", name)], limit=1)
    vals = {"name": name, "workflow_id": workflow.id, "order_prefix": "B-", "queue_size": 50}
    if emulator:
        client_id, secret = next(iter(emulator.apps.items()))
        vals.update({"lwa_client_id": client_id, "lwa_client_secret": secret,
                     "refresh_token": next(iter(emulator.refresh_tokens)),
                     "api_endpoint": emulator.url, "lwa_endpoint": emulator.url})
    if seller:
        seller.write(vals)
    else:
        seller = env["amazon.seller"].create(vals)
    if not seller.marketplace_ids:
        env["amazon.marketplace"].create({
            "seller_id": seller.id, "reference_id": env.ref("amazon_fbm_connector.marketplace_us").id,
            "warehouse_id": env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1).id})
    env.cr.commit()
    RateLimiter.reset()
    return seller


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def quota_seconds(calls, limits):
    """Seconds Amazon's default usage plans need for these calls (token buckets)."""
    worst = 0.0
    for operation, count in calls.items():
        rate, burst = limits.get(operation, (None, None))
        if rate:
            worst = max(worst, max(0, count - burst) / rate)
    return worst
