"""Which of the seller's marketplaces an order belongs to, from Amazon's data only."""
import logging
from datetime import timedelta

from odoo import _

from .errors import AmazonError
from .normalize import payload_marketplace_id, payload_order_id

_logger = logging.getLogger(__name__)
# Orders the Orders API returns for one list of ids (getOrders AmazonOrderIds).
IDS_PER_CALL = 50


class MarketplaceResolver:
    """Which of the seller's marketplaces an order belongs to, from Amazon's data
    only, in this order: the Orders API's marketplace id; the sales channel (the
    report's column, else the All Orders report's); the Orders API asked by
    order id; the one marketplace the report was asked for; the ship-to country
    when it names exactly one requested marketplace in the order's currency.
    Otherwise the order fails alone, with a message naming what to configure."""

    def __init__(self, seller, requested=None, adapter=None):
        marketplaces = seller.marketplace_ids
        self.seller = seller
        self.known = {m.amazon_marketplace_id for m in marketplaces}
        self.by_channel = {m.sales_channel.strip().lower(): m.amazon_marketplace_id
                           for m in marketplaces if m.sales_channel}
        self.requested = requested if requested else marketplaces
        self.adapter = adapter

    def resolve(self, orders):
        """Set ``marketplace_id`` on each order; returns ``{order_id: message}`` for
        the orders whose marketplace cannot be established."""
        failed, unknown = {}, []
        codes = self.requested.mapped("amazon_marketplace_id")
        for order in orders:
            if order.marketplace_id:
                if order.marketplace_id not in self.known:
                    failed[order.order_id] = self._not_configured(order.marketplace_id)
                continue
            channel = (order.sales_channel or "").strip()
            if channel:
                code = self.by_channel.get(channel.lower())
                if code:
                    order.marketplace_id = code
                else:
                    failed[order.order_id] = _(
                        "Amazon sold this order on %(channel)s, which is not a marketplace of "
                        "seller %(seller)s: add that marketplace under Amazon > Configuration > "
                        "Marketplaces (pick it from the list, or enter its Amazon marketplace id).",
                        channel=channel, seller=self.seller.name)
                continue
            unknown.append(order)
        if unknown and self.adapter is not None:
            self._ask_orders_api(unknown, codes)
        for order in unknown:
            if order.marketplace_id:
                if order.marketplace_id not in self.known:
                    failed[order.order_id] = self._not_configured(order.marketplace_id)
                continue
            if len(codes) == 1:
                order.marketplace_id = codes[0]   # the report was asked for this one marketplace
                continue
            country = order.ship_to.country_code
            matches = self.requested.filtered(lambda m, o=order: m.country_id.code == o.ship_to.country_code and (
                not o.currency or m.currency_id.name == o.currency)) if country else []
            if len(matches) == 1:
                order.marketplace_id = matches.amazon_marketplace_id
                continue
            failed[order.order_id] = _(
                "Amazon did not say on which marketplace this order was sold: the report has no "
                "sales channel for it, the All Orders report and the Orders API did not list it, "
                "and its ship-to country (%(country)s) matches %(count)s of the requested "
                "marketplaces. Check that every marketplace of seller %(seller)s is configured "
                "(Amazon > Configuration > Marketplaces) and process the report again.",
                country=country or "?", count=len(matches), seller=self.seller.name)
        return failed

    def _ask_orders_api(self, orders, codes):
        by_id = {o.order_id: o for o in orders}
        ids = list(by_id)
        # v0 lists up to 50 ids a call; 2026-01-01 has no id filter and searches the
        # orders' purchase window once for all of them.
        dates = [o.purchase_date for o in orders if o.purchase_date]
        window = {"created_after": min(dates) - timedelta(minutes=1),
                  "created_before": max(dates) + timedelta(minutes=1)} if len(dates) == len(orders) else {}
        size = IDS_PER_CALL if getattr(self.adapter, "is_v0", True) else len(ids)
        for start in range(0, len(ids), size):
            chunk = ids[start:start + size]
            try:
                for payload in self.adapter.list_orders(codes, order_ids=chunk, with_pii=False, **window):
                    order = by_id.get(payload_order_id(payload))
                    if order is not None:
                        order.marketplace_id = payload_marketplace_id(payload)
            except AmazonError as exc:
                _logger.info("amazon: marketplace lookup by order id failed: %s", exc)
                return

    def _not_configured(self, code):
        return _("Marketplace %(mp)s is not configured for seller %(seller)s: add it under "
                 "Amazon > Configuration > Marketplaces.", mp=code, seller=self.seller.name)
