"""Normalised Amazon orders -> Odoo partners, products and sale orders.

All three FBM flows hand their orders here. A batch costs a constant number
of searches: existing orders, products by SKU, partners by e-mail, countries
and states are each fetched once for the whole batch, and orders are created
with one ``create`` call. Every order's total equals Amazon's to the cent:
item prices are Amazon's line totals (split over two lines when the unit
price is not a whole cent), and any difference between the taxes Odoo
computes and what Amazon charged goes to an adjustment line.
"""
import logging
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from odoo import _
from odoo.tools import float_compare, float_round

from .const import MFN_CHANNEL_VALUES

_logger = logging.getLogger(__name__)


class BuildError(Exception):
    """An order that cannot be built; the message is for the seller."""


@dataclass
class BuildResult:
    order_id: str
    status: str            # created / existing / failed / skipped
    message: str = ""
    sale_order: object = None


# Bulk imports write no tracking values or "created" notes: they cost more
# than the order itself (fields_get per record) and nobody reads them.
IMPORT_CONTEXT = {"tracking_disable": True, "mail_create_nolog": True,
                  "mail_create_nosubscribe": True, "mail_notrack": True}


class OrderBuilder:
    """Builds as the superuser, whoever started the import (an Amazon / User may
    start it; partners, products, states and tax twins are then created like
    the scheduler creates them). Orders are scoped by seller and company."""

    def __init__(self, seller, shipped=False):
        seller = seller.sudo().with_context(**IMPORT_CONTEXT)
        self.seller = seller
        self.env = seller.env
        self.shipped = shipped
        self.company = seller.company_id
        self._tax_twins = {}

    # ================================================================ public
    def build(self, orders):
        """Build a batch; returns one ``BuildResult`` per input order."""
        SaleOrder = self.env["sale.order"].with_company(self.company)
        results, todo = {}, []
        refs = [o.order_id for o in orders]
        existing = {so.amazon_order_ref: so for so in SaleOrder.search([
            ("amazon_seller_id", "=", self.seller.id), ("amazon_order_ref", "in", refs)])}
        seen = set()
        for order in orders:
            if order.order_id in existing:
                results[order.order_id] = BuildResult(order.order_id, "existing",
                                                      _("Already imported."), existing[order.order_id])
            elif order.order_id in seen:
                results[order.order_id] = BuildResult(order.order_id, "existing", _("Twice in the batch."))
            elif order.fulfillment_channel and order.fulfillment_channel not in MFN_CHANNEL_VALUES:
                results[order.order_id] = BuildResult(
                    order.order_id, "skipped",
                    _("Fulfilled by Amazon (%s), not by the merchant.", order.fulfillment_channel))
            else:
                todo.append(order)
            seen.add(order.order_id)
        if todo:
            self._prefetch(todo)
            vals_list, built = [], []
            for order in todo:
                try:
                    vals_list.append(self._order_vals(order))
                    built.append(order)
                except BuildError as exc:
                    results[order.order_id] = BuildResult(order.order_id, "failed", str(exc))
            if vals_list:
                sale_orders = SaleOrder.create(vals_list)
                self._adjust_totals(sale_orders, built)
                for order, so in zip(built, sale_orders):
                    results[order.order_id] = BuildResult(order.order_id, "created", "", so)
        return [results[o.order_id] for o in orders]

    # ============================================================ prefetch
    def _prefetch(self, orders):
        env = self.env
        self.marketplaces = {m.amazon_marketplace_id: m for m in self.seller.marketplace_ids}
        skus = {item.sku for o in orders for item in o.items}
        mappings = env["amazon.product.mapping"].search([("seller_id", "=", self.seller.id),
                                                         ("sku", "in", list(skus))])
        self.products = {m.sku: m.product_id for m in mappings}
        missing = skus - set(self.products)
        if missing:
            for product in env["product.product"].with_context(active_test=False).search([
                    ("default_code", "in", list(missing)),
                    ("company_id", "in", [False, self.company.id])]):
                self.products.setdefault(product.default_code, product)
        missing = skus - set(self.products)
        if missing and self.seller.create_product_if_missing:
            self._create_products(orders, missing)
        codes = {o.ship_to.country_code for o in orders if o.ship_to.country_code}
        codes |= {self.marketplaces[o.marketplace_id].country_id.code for o in orders
                  if o.marketplace_id in self.marketplaces and self.marketplaces[o.marketplace_id].country_id}
        self.countries = {c.code: c for c in env["res.country"].search([("code", "in", list(codes))])}
        self.states = {}
        for state in env["res.country.state"].search([("country_id", "in", [c.id for c in self.countries.values()])]):
            self.states[(state.country_id.id, state.code.upper())] = state
            self.states[(state.country_id.id, state.name.upper())] = state
        currencies = {o.currency for o in orders if o.currency}
        self.currencies = {c.name: c for c in env["res.currency"].with_context(active_test=False).search(
            [("name", "in", list(currencies))])}
        self._prefetch_partners(orders)

    def _create_products(self, orders, missing):
        seen, vals = set(), []
        for order in orders:
            for item in order.items:
                if item.sku in missing and item.sku not in seen:
                    seen.add(item.sku)
                    unit = float(item.item_price / item.quantity) if item.priced and item.quantity else 0.0
                    vals.append({"name": item.title or item.sku, "default_code": item.sku,
                                 "detailed_type": "product", "list_price": unit,
                                 "sale_ok": True, "company_id": False})
        for product in self.env["product.product"].create(vals):
            self.products[product.default_code] = product

    def _prefetch_partners(self, orders):
        Partner = self.env["res.partner"].with_context(active_test=False)
        emails = {o.buyer.email.lower() for o in orders if o.buyer.email}
        self.partners = {}
        if emails:
            for partner in Partner.search([("email", "in", list(emails)), ("parent_id", "=", False)],
                                          order="id"):
                self.partners.setdefault((partner.email or "").lower(), partner)
        self.delivery = {}
        parents = [p.id for p in self.partners.values()]
        if parents:
            for child in Partner.search([("parent_id", "in", parents), ("type", "=", "delivery")]):
                self.delivery[self._address_key(child.parent_id.id, child)] = child

    # ============================================================ partners
    @staticmethod
    def _address_key(parent_id, rec):
        if isinstance(rec, dict):
            get = rec.get
            country = rec.get("country_id") or False
        else:
            get = lambda k: rec[k] or ""  # noqa: E731
            country = rec.country_id.id
        return (parent_id, (get("name") or "").strip().lower(), (get("street") or "").strip().lower(),
                (get("zip") or "").strip().lower(), (get("city") or "").strip().lower(), country)

    def _country_state(self, address, marketplace):
        country = self.countries.get(address.country_code) or marketplace.country_id
        state = False
        if country and address.state:
            key = address.state.strip().upper()
            state = self.states.get((country.id, key))
            if not state:
                state = self.env["res.country.state"].create({
                    "country_id": country.id, "name": address.state.strip(),
                    "code": address.state.strip()[:32]})
                self.states[(country.id, key)] = state
        return country, state

    def _partners(self, order, marketplace):
        addr, buyer = order.ship_to, order.buyer
        country, state = self._country_state(addr, marketplace)
        name = buyer.company if order.is_business and buyer.company else (buyer.name or addr.name)
        if not name:
            name = _("Amazon Customer %s", order.order_id)
        address_vals = {"street": addr.street or False,
                        "street2": " ".join(p for p in (addr.street2, addr.street3) if p) or False,
                        "city": addr.city or False, "zip": addr.zip or False,
                        "country_id": country.id if country else False,
                        "state_id": state.id if state else False}
        email = (buyer.email or "").lower()
        partner = self.partners.get(email) if email else None
        if partner is None:
            partner = self.env["res.partner"].create(dict(
                address_vals, name=name, email=buyer.email or False,
                phone=buyer.phone or addr.phone or False, is_company=bool(order.is_business),
                company_type="company" if order.is_business else "person",
                lang=self.env.lang or "en_US",
                comment=_("Amazon buyer (%s)", self.seller.name)))
            if email:
                self.partners[email] = partner
        ship_name = addr.name or name
        key = self._address_key(partner.id, dict(address_vals, name=ship_name))
        shipping = self.delivery.get(key)
        if shipping is None:
            if partner.name == ship_name and not partner.child_ids and \
                    self._address_key(partner.id, partner) == key:
                shipping = partner
            else:
                shipping = self.env["res.partner"].create(dict(
                    address_vals, name=ship_name, parent_id=partner.id, type="delivery",
                    phone=addr.phone or False))
            self.delivery[key] = shipping
        return partner, shipping

    # ============================================================== lines
    def _pricelist(self, marketplace, currency):
        pricelist = marketplace.pricelist_id
        if pricelist and pricelist.currency_id == currency:
            return pricelist
        Pricelist = self.env["product.pricelist"]
        pricelist = Pricelist.search([("currency_id", "=", currency.id),
                                      ("company_id", "in", [False, self.company.id])], limit=1)
        if not pricelist:
            pricelist = Pricelist.create({"name": "Amazon %s" % currency.name,
                                          "currency_id": currency.id})
        return pricelist

    def _taxes(self, product, fpos, included):
        taxes = product.taxes_id.filtered(lambda t: t.company_id == self.company)
        if fpos:
            taxes = fpos.map_tax(taxes)
        if included:
            taxes = taxes.browse([self._included_twin(t).id for t in taxes])
        return taxes

    def _included_twin(self, tax):
        """Amazon's EU/UK/JP prices include tax: use a price-included twin."""
        if tax.price_include or tax.amount_type not in ("percent", "division"):
            return tax
        if tax.id not in self._tax_twins:
            Tax = self.env["account.tax"].with_context(active_test=False)
            twin = Tax.search([("company_id", "=", tax.company_id.id), ("type_tax_use", "=", "sale"),
                               ("amount_type", "=", tax.amount_type), ("amount", "=", tax.amount),
                               ("price_include", "=", True),
                               ("country_id", "=", tax.country_id.id)], limit=1)
            if not twin:
                twin = tax.copy({"name": _("%s (incl.)", tax.name), "price_include": True,
                                 "include_base_amount": False})
            self._tax_twins[tax.id] = twin
        return self._tax_twins[tax.id]

    def _money_lines(self, product, label, amount, quantity, currency, taxes, analytic, sequence):
        """Line(s) whose total is exactly ``amount``: one line when the unit price is
        a whole cent, else (quantity - 1) x floor unit + 1 x the remainder."""
        rounding = Decimal(str(currency.rounding))
        base = {"product_id": product.id, "name": label, "tax_id": [(6, 0, taxes.ids)],
                "analytic_distribution": analytic or False, "product_uom": product.uom_id.id,
                "sequence": sequence}
        if quantity <= 0:
            quantity = 1
        unit = (amount / quantity).quantize(rounding, rounding=ROUND_DOWN)
        if unit * quantity == amount or quantity == 1:
            return [dict(base, product_uom_qty=quantity, price_unit=float(amount / quantity if quantity == 1 else unit))]
        rest = amount - unit * (quantity - 1)
        return [dict(base, product_uom_qty=quantity - 1, price_unit=float(unit)),
                dict(base, product_uom_qty=1, price_unit=float(rest))]

    def _order_vals(self, order):
        marketplace = self.marketplaces.get(order.marketplace_id)
        if not marketplace:
            raise BuildError(_("Marketplace %(mp)s is not configured for seller %(seller)s: add it under "
                               "Amazon > Configuration > Marketplaces.",
                               mp=order.marketplace_id or "?", seller=self.seller.name))
        if not order.items:
            raise BuildError(_("Amazon sent no items for this order."))
        if not all(item.priced for item in order.items):
            raise BuildError(_("Amazon gave no prices for this order yet."))
        currency = self.currencies.get(order.currency) if order.currency else marketplace.currency_id
        if not currency:
            raise BuildError(_("Currency %s is not known in Odoo: activate it.", order.currency or "?"))
        if not currency.active:
            raise BuildError(_("Currency %s is not active in Odoo: activate it.", currency.name))
        unknown = sorted({i.sku for i in order.items if i.sku not in self.products})
        if unknown:
            raise BuildError(_("Unknown SKU %s: create the product with this internal reference, "
                               "map the SKU on the seller, or allow product creation.",
                               ", ".join(unknown)))
        if not order.purchase_date:
            raise BuildError(_("The order has no purchase date."))
        partner, shipping = self._partners(order, marketplace)
        fpos = self.env["account.fiscal.position"].with_company(self.company)._get_fiscal_position(
            partner, delivery=shipping)
        included = marketplace.price_includes_tax
        analytic = marketplace.analytic_distribution
        lines, seq = [], 10
        extras = {"shipping": Decimal(0), "gift_wrap": Decimal(0), "promotion": Decimal(0)}
        extra_tax_from = {}
        for item in order.items:
            product = self.products[item.sku]
            taxes = self._taxes(product, fpos, included)
            label = "[%s] %s" % (item.sku, item.title or product.name)
            item_lines = self._money_lines(product, label, item.item_price, item.quantity, currency,
                                           taxes, analytic, seq)
            for line in item_lines:
                line.update(amazon_order_item_id=item.order_item_id or False, amazon_asin=item.asin or False)
            lines += item_lines
            seq += 1
            extras["shipping"] += item.shipping_price - item.shipping_discount
            extras["gift_wrap"] += item.gift_wrap_price
            extras["promotion"] += item.promotion_discount
            if item.promotion_discount:
                extra_tax_from.setdefault("promotion", taxes)
        specs = (("shipping", self.seller.shipping_product_id, _("Amazon shipping")),
                 ("gift_wrap", self.seller.gift_wrap_product_id, _("Gift wrap")),
                 ("promotion", self.seller.discount_product_id, _("Amazon promotion")))
        for key, product, label in specs:
            amount = extras[key]
            if not amount:
                continue
            if not product:
                raise BuildError(_("Set the %s product on the seller.", label))
            sign = -1 if key == "promotion" else 1
            taxes = extra_tax_from.get(key) or self._taxes(product, fpos, included)
            lines += self._money_lines(product, label, sign * amount, 1, currency, taxes, analytic, seq)
            seq += 1
        gift = "\n".join(i.gift_message for i in order.items if i.gift_message)
        warehouse = marketplace.warehouse_id or self.env["stock.warehouse"].search(
            [("company_id", "=", self.company.id)], limit=1)
        vals = {
            "partner_id": partner.id,
            "partner_invoice_id": partner.id,
            "partner_shipping_id": shipping.id,
            "pricelist_id": self._pricelist(marketplace, currency).id,
            "company_id": self.company.id,
            "warehouse_id": warehouse.id,
            "date_order": order.purchase_date,
            "client_order_ref": order.order_id,
            "fiscal_position_id": fpos.id if fpos else False,
            "team_id": marketplace.team_id.id or False,
            # Amazon sold it: the team leader, not whoever ran the import (often OdooBot)
            "user_id": marketplace.team_id.user_id.id or False,
            "tag_ids": [(6, 0, marketplace.tag_ids.ids)],
            "amazon_order_ref": order.order_id,
            "amazon_seller_id": self.seller.id,
            "amazon_marketplace_id": marketplace.id,
            "amazon_fulfillment_channel": "MFN",
            "amazon_status": order.status,
            "amazon_total": float(order.amazon_total if order.amazon_total is not None
                                  else order.total(included)),
            "amazon_gift_message": gift or False,
            "amazon_ship_by_date": order.ship_by_date or False,
            "note": gift and _("Gift message: %s", gift) or False,
            "order_line": [(0, 0, line) for line in lines],
        }
        if not self.seller.use_odoo_sequence:
            vals["name"] = "%s%s" % (self.seller.order_prefix or "", order.order_id)
        return vals

    def _adjust_totals(self, sale_orders, orders):
        """Add an adjustment line where Odoo's tax computation differs from Amazon's."""
        product = self.seller.adjustment_product_id
        vals = []
        for so, _order in zip(sale_orders, orders):
            rounding = so.currency_id.rounding
            diff = float_round(so.amazon_total - so.amount_total, precision_rounding=rounding)
            if float_compare(diff, 0.0, precision_rounding=rounding) == 0:
                continue
            vals.append({"order_id": so.id, "product_id": product.id, "product_uom_qty": 1,
                         "price_unit": diff, "tax_id": [(6, 0, [])],
                         "name": _("Tax collected by Amazon / rounding"),
                         "analytic_distribution": so.amazon_marketplace_id.analytic_distribution or False,
                         "sequence": 99})
        if vals:
            self.env["sale.order.line"].create(vals)
