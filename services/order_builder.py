"""Normalised Amazon orders -> Odoo partners, products and sale orders.

All three FBM flows hand their orders here. A batch costs a constant number
of searches: existing orders, products by SKU, partners by e-mail, countries
and states are each fetched once for the whole batch, and orders are created
with one ``create`` call. Every order's total, untaxed amount and tax equal
Amazon's to the cent: item prices are Amazon's line totals (split over two
lines when the unit price is not a whole cent), and each line carries the tax
at the rate Amazon charged (``tax_resolver``). What Odoo's per-line rounding
cannot reproduce (at most a cent per order) goes to an adjustment line whose
cent lands on the tax account; anything larger is reported on the order.
"""
import logging
from dataclasses import dataclass
from decimal import Decimal

from odoo import _

from . import creation_lock
from .const import MFN, MFN_CHANNEL_VALUES
from .tax_resolver import TaxResolver

_logger = logging.getLogger(__name__)


class BuildError(Exception):
    """An order that cannot be built; the message is for the seller."""


@dataclass
class Result:
    """What happened to one Amazon order of a batch (the builder's and the pipeline's)."""
    ref: str               # Amazon's order id
    state: str             # created / existing / skipped / failed
    message: str = ""
    sale_order: object = None


# Bulk imports write no tracking values or "created" notes: they cost more
# than the order itself (fields_get per record) and nobody reads them.
IMPORT_CONTEXT = {"tracking_disable": True, "mail_create_nolog": True,
                  "mail_create_nosubscribe": True, "mail_notrack": True}


class _New:
    """A partner to create with the others of the batch: its values, then its record."""
    __slots__ = ("vals", "record")

    def __init__(self, vals):
        self.vals = vals
        self.record = None


def _record(partner):
    return partner.record if isinstance(partner, _New) else partner


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
        self.tax_resolver = TaxResolver(self.env, self.company)
        self._fiscal_positions = {}
        self._tax_info = {}
        self._pricelists = {}
        self._warehouse = None
        self._fpos_by = None
        self._specs = None

    # ================================================================ public
    def build(self, orders):
        """Build a batch; returns one ``Result`` per input order."""
        SaleOrder = self.env["sale.order"].with_company(self.company)
        results, todo = {}, []
        refs = [o.order_id for o in orders]
        existing = {so.amazon_order_ref: so for so in SaleOrder.search([
            ("amazon_seller_id", "=", self.seller.id), ("amazon_order_ref", "in", refs)])}
        seen = set()
        for order in orders:
            if order.order_id in existing:
                results[order.order_id] = Result(order.order_id, "existing",
                                                      _("Already imported."), existing[order.order_id])
            elif order.order_id in seen:
                results[order.order_id] = Result(order.order_id, "existing", _("Twice in the batch."))
            elif order.fulfillment_channel and order.fulfillment_channel not in MFN_CHANNEL_VALUES:
                results[order.order_id] = Result(
                    order.order_id, "skipped",
                    _("Fulfilled by Amazon (%s), not by the merchant.", order.fulfillment_channel))
            else:
                todo.append(order)
            seen.add(order.order_id)
        if todo:
            self._prefetch(todo)
            checked = []
            for order in todo:
                try:
                    checked.append((order,) + self._check(order))
                except BuildError as exc:
                    results[order.order_id] = Result(order.order_id, "failed", str(exc))
            partners = self._partners(checked)
            vals_list, built = [], []
            for order, marketplace, currency in checked:
                try:
                    vals_list.append(self._order_vals(order, marketplace, currency,
                                                      *partners[order.order_id]))
                    built.append(order)
                except BuildError as exc:
                    results[order.order_id] = Result(order.order_id, "failed", str(exc))
            if vals_list:
                sale_orders = SaleOrder.create(vals_list)
                self._adjust_totals(sale_orders, built)
                for order, so in zip(built, sale_orders):
                    problems = self._tax_info[order.order_id]["problems"]
                    results[order.order_id] = Result(order.order_id, "created",
                                                          "\n".join(problems), so)
        return [results[o.order_id] for o in orders]

    # ============================================================ prefetch
    def _prefetch(self, orders):
        env = self.env
        self._specs = self._fpos_by = None   # read again for each batch
        self.marketplaces = {m.amazon_marketplace_id: m for m in self.seller.marketplace_ids}
        self.tax_resolver.prefetch(self.seller.marketplace_ids)
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
            creation_lock.guard_products(env, self.company, missing)
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
        vats = {self._buyer_vat(o) for o in orders} - {""}
        self.companies = {}
        if vats:
            for company in Partner.search([("vat", "in", list(vats)), ("is_company", "=", True)],
                                          order="id"):
                self.companies.setdefault(company.vat, company)
        self.partners = {}
        if emails:
            for partner in Partner.search([("email", "in", list(emails)), ("parent_id", "=", False)],
                                          order="id"):
                self.partners.setdefault((partner.email or "").lower(), partner)
            creation_lock.guard_buyers(self.env, emails - set(self.partners))
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

    @staticmethod
    def _buyer_vat(order):
        return next((vat.strip() for vat in order.buyer_tax_ids or [] if vat and vat.strip()), "")

    def _business_partner(self, partner, order, address_vals):
        """A business buyer's VAT number goes on its company (the commercial
        partner), created from Amazon's company name when the buyer has none."""
        vat, company_name = self._buyer_vat(order), order.buyer.company
        if not (vat or order.is_business and company_name):
            return partner
        commercial = partner.commercial_partner_id
        if not commercial.is_company and company_name:
            commercial = self.companies.get(vat) if vat else None
            if commercial is None:
                commercial = self.env["res.partner"].create(dict(
                    address_vals, name=company_name, is_company=True,
                    vat=vat or False, lang=self.env.lang or "en_US",
                    comment=_("Amazon Business buyer (%s)", self.seller.name)))
                if vat:
                    self.companies[vat] = commercial
            partner.parent_id = commercial
        if vat and not commercial.vat:
            commercial.vat = vat
        return partner

    def _partners(self, checked):
        """``{order id: (buyer, delivery address)}`` for ``[(order, marketplace, currency)]``.
        New buyers are created in one call, and new delivery addresses in
        another; an order naming a business (VAT number, company) has its
        buyer created first, so that the next orders find its company."""
        pending, plans = [], []
        for order, marketplace, _currency in checked:
            addr, buyer = order.ship_to, order.buyer
            country, state = self._country_state(addr, marketplace)
            vat = self._buyer_vat(order)
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
            if partner is None and vat and order.is_business and vat in self.companies:
                partner = self.companies[vat]
            if partner is None:
                # created with the others below (the company field follows is_company)
                partner = _New(dict(
                    address_vals, name=name, email=buyer.email or False,
                    phone=buyer.phone or addr.phone or False, is_company=bool(order.is_business),
                    vat=vat if order.is_business else False,
                    lang=self.env.lang or "en_US",
                    comment=_("Amazon buyer (%s)", self.seller.name)))
                pending.append(partner)
                if email:
                    self.partners[email] = partner
                if vat and order.is_business:
                    self.companies.setdefault(vat, partner)
            if vat or order.is_business and buyer.company:
                self._create_new(pending)
                partner = self._business_partner(_record(partner), order, address_vals)
            plans.append((order, partner, address_vals, addr.name or name))
        self._create_new(pending)
        result, parents = {}, set()
        for order, partner, address_vals, ship_name in plans:
            partner = _record(partner)
            key = self._address_key(partner.id, dict(address_vals, name=ship_name))
            shipping = self.delivery.get(key)
            if shipping is None:
                if partner.name == ship_name and partner.id not in parents and not partner.child_ids \
                        and self._address_key(partner.id, partner) == key:
                    shipping = partner
                else:
                    shipping = _New(dict(address_vals, name=ship_name, parent_id=partner.id, type="delivery",
                                         phone=order.ship_to.phone or False))
                    pending.append(shipping)
                    parents.add(partner.id)
                self.delivery[key] = shipping
            result[order.order_id] = (partner, shipping)
        self._create_new(pending)
        return {ref: (partner, _record(shipping)) for ref, (partner, shipping) in result.items()}

    def _create_new(self, pending):
        """Create the partners in ``pending`` in one call (and empty it)."""
        if not pending:
            return
        records = self.env["res.partner"].create([new.vals for new in pending])
        for new, record in zip(pending, records):
            new.record = record
        for cache in (self.partners, self.companies, self.delivery):
            for key, value in cache.items():
                if isinstance(value, _New):
                    cache[key] = value.record
        pending.clear()

    # ============================================================== lines
    def _default_warehouse(self):
        """The company's first warehouse (for marketplaces without one; asked once)."""
        if self._warehouse is None:
            self._warehouse = self.env["stock.warehouse"].search([("company_id", "=", self.company.id)],
                                                                 limit=1)
        return self._warehouse

    def _pricelist(self, marketplace, currency):
        """The marketplace's pricelist when in the order's currency, else one in
        that currency (found or created once per marketplace and currency)."""
        key = (marketplace.id, currency.id)
        if key not in self._pricelists:
            self._pricelists[key] = self._find_pricelist(marketplace, currency)
        return self._pricelists[key]

    def _find_pricelist(self, marketplace, currency):
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

    def _fiscal_position(self, marketplace, partner, shipping):
        """The marketplace's fiscal position, else Odoo's rules for the buyer's
        address (asked once per distinct address kind in a batch)."""
        if marketplace.fiscal_position_id:
            return marketplace.fiscal_position_id
        by_country, by_state, by_zip = self._fpos_criteria()
        key = (partner.commercial_partner_id.id if partner.property_account_position_id else 0,
               by_country and shipping.country_id.id, by_state and shipping.state_id.id,
               by_zip and shipping.zip or "", bool(partner.commercial_partner_id.vat))
        if key not in self._fiscal_positions:
            self._fiscal_positions[key] = self.env["account.fiscal.position"].with_company(
                self.company)._get_fiscal_position(partner, delivery=shipping)
        return self._fiscal_positions[key]

    def _fpos_criteria(self):
        """Which parts of an address the company's automatic fiscal positions
        look at -- (country, state, zip) -- read once: where none has a zip
        range, orders to different zips share Odoo's answer (and so on)."""
        if self._fpos_by is None:
            Fpos = self.env["account.fiscal.position"].with_company(self.company)
            autos = Fpos.search(Fpos._check_company_domain(self.company) + [("auto_apply", "=", True)])
            self._fpos_by = (bool(autos), any(autos.mapped("state_ids")),
                             any(fp.zip_from or fp.zip_to for fp in autos))
        return self._fpos_by

    def _line_specs(self):
        """kind -> (the seller's product, line label) of the lines beside the items (once per batch)."""
        if self._specs is None:
            self._specs = {"shipping": (self.seller.shipping_product_id, _("Amazon shipping")),
                           "gift_wrap": (self.seller.gift_wrap_product_id, _("Gift wrap")),
                           "promotion": (self.seller.discount_product_id, _("Amazon promotion"))}
        return self._specs

    def _lines(self, order, marketplace, fpos, currency):
        """Sale order lines with Amazon's amounts and the taxes that reproduce Amazon's tax."""
        specs = self._line_specs()
        present = {
            "shipping": any(i.shipping_price - i.shipping_discount or i.shipping_tax
                            - i.shipping_discount_tax for i in order.items),
            "gift_wrap": any(i.gift_wrap_price or i.gift_wrap_tax for i in order.items),
            "promotion": any(i.promotion_discount for i in order.items)}
        for kind, (product, label) in specs.items():
            if present[kind] and not product:
                raise BuildError(_("Set the %s product on the seller.", label))
        products = [self.products[item.sku] for item in order.items]
        planned, notes, problems = self.tax_resolver.plan(
            order, marketplace, fpos, products, {k: v[0] for k, v in specs.items()}, currency)
        analytic = marketplace.analytic_distribution or False
        apart = {}
        for line, _product, _taxes in planned:
            apart[line.kind] = apart.get(line.kind, 0) + 1
        lines, seq, unstated_tax = [], 10, Decimal(0)
        for line, product, taxes in planned:
            extra = {}
            if line.kind == "item":
                item = line.items[0]
                name = "[%s] %s" % (item.sku, item.title or product.name)
                extra = {"amazon_order_item_id": item.order_item_id or False,
                         "amazon_asin": item.asin or False}
            else:
                name = specs[line.kind][1]
                if apart[line.kind] > 1:   # one line per item: Amazon rounded them apart
                    name = "%s (%s)" % (name, ", ".join(i.sku for i in line.items))
            for qty, unit in line.split:
                if not line.stated and taxes:
                    # Amazon stated no tax: the tax is Odoo's, so the order's expected tax too
                    res = taxes.compute_all(float(unit), currency=currency, quantity=float(qty),
                                            product=product)
                    unstated_tax += Decimal(str(res["total_included"])) - Decimal(str(res["total_excluded"]))
                lines.append(dict(extra, product_id=product.id, name=name,
                                  tax_id=[(6, 0, taxes.ids)], analytic_distribution=analytic,
                                  product_uom=product.uom_id.id, sequence=seq,
                                  product_uom_qty=qty, price_unit=float(unit)))
            seq += 1
        self._tax_info[order.order_id] = {
            "country": self.tax_resolver.tax_country(fpos),
            "account": self.tax_resolver.main_account(planned),
            "unstated_tax": unstated_tax,
            "taxed_lines": sum(len(line.split) for line, _product, taxes in planned if taxes),
            "problems": problems}
        return lines, notes, problems

    def _check(self, order):
        """``(marketplace, currency)`` of an order that can be built, else ``BuildError``."""
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
        return marketplace, currency

    def _order_vals(self, order, marketplace, currency, partner, shipping):
        fpos = self._fiscal_position(marketplace, partner, shipping)
        included = marketplace.price_includes_tax
        lines, notes, problems = self._lines(order, marketplace, fpos, currency)
        gift = "\n".join(i.gift_message for i in order.items if i.gift_message)
        warehouse = marketplace.warehouse_id or self._default_warehouse()
        vals = {
            "partner_id": partner.id,
            "partner_invoice_id": partner.id,
            "partner_shipping_id": shipping.id,
            "pricelist_id": self._pricelist(marketplace, currency).id,
            "company_id": self.company.id,
            "warehouse_id": warehouse.id,
            "date_order": order.purchase_date,
            "client_order_ref": order.purchase_order_number or False,
            "fiscal_position_id": fpos.id if fpos else False,
            "team_id": marketplace.team_id.id or False,
            # Amazon sold it: the team leader, not whoever ran the import (often OdooBot)
            "user_id": marketplace.team_id.user_id.id or False,
            "tag_ids": [(6, 0, marketplace.tag_ids.ids)],
            "amazon_order_ref": order.order_id,
            "amazon_seller_id": self.seller.id,
            "amazon_marketplace_id": marketplace.id,
            "amazon_fulfillment_channel": MFN,
            "amazon_status": order.status,
            "amazon_total": float(order.amazon_total if order.amazon_total is not None
                                  else order.total(included)),
            "amazon_gift_message": gift or False,
            "amazon_ship_by_date": order.ship_by_date or False,
            "note": gift and _("Gift message: %s", gift) or False,
            "amazon_tax_note": "\n".join(notes) or False,
            "amazon_tax_problem": "\n".join(problems) or False,
            "order_line": [(0, 0, line) for line in lines],
        }
        if not self.seller.use_odoo_sequence:
            vals["name"] = "%s%s" % (self.seller.order_prefix or "", order.order_id)
        return vals

    @staticmethod
    def amazon_tax(order):
        """The tax Amazon charged for the whole order."""
        return sum((i.item_tax + i.shipping_tax + i.gift_wrap_tax - i.promotion_discount_tax
                    - i.shipping_discount_tax for i in order.items), Decimal(0))

    def _adjust_totals(self, sale_orders, orders):
        """Where Odoo's per-line rounding misses Amazon's tax (Amazon rounds the
        VAT of each amount half up; Odoo's float arithmetic can round an exact half
        cent down), an adjustment line moves the difference onto the tax account
        (a fixed tax): at most one cent per taxed line is rounding. Any larger
        difference is kept on the adjustment line so the total stays Amazon's,
        and reported on the order."""
        product = self.seller.adjustment_product_id
        vals, flagged = [], {}
        for so, order in zip(sale_orders, orders):
            info = self._tax_info[order.order_id]
            cent = Decimal(str(so.currency_id.rounding))
            amazon_tax = (self.amazon_tax(order) + info["unstated_tax"]).quantize(cent)
            amazon_untaxed = Decimal(str(so.amazon_total)).quantize(cent) - amazon_tax
            d_tax = amazon_tax - Decimal(str(so.amount_tax)).quantize(cent)
            d_net = amazon_untaxed - Decimal(str(so.amount_untaxed)).quantize(cent)
            if not d_tax and not d_net:
                continue
            base = {"order_id": so.id, "product_id": product.id, "sequence": 99,
                    "name": _("Tax rounding: Amazon rounded its tax apart from Odoo's per-line rounding"),
                    "analytic_distribution": so.amazon_marketplace_id.analytic_distribution or False}
            bound = cent * max(1, info["taxed_lines"])   # one cent per taxed line
            if abs(d_tax) <= bound and abs(d_net) <= bound and info["account"]:
                # Lines of quantity 1 (Odoo invoices negative quantities only in final
                # invoices): a fixed tax of d_tax on a zero price, or, where prices
                # include tax, a fixed tax on the cents that move from untaxed to tax
                # (a fixed tax takes the sign of the price: -|d_tax| on a price of -d_tax).
                if d_tax and d_net == -d_tax:
                    price, amount = d_net, -abs(d_tax)
                else:
                    price, amount = Decimal(0), d_tax
                if d_tax:
                    tax = self.tax_resolver.rounding_tax(amount, info["account"], info["country"])
                    vals.append(dict(base, product_uom_qty=1, price_unit=float(price),
                                     tax_id=[(6, 0, tax.ids)]))
                if d_net and not price:
                    vals.append(dict(base, product_uom_qty=1, price_unit=float(d_net),
                                     tax_id=[(6, 0, [])], sequence=100))
                continue
            problem = _(
                "Odoo's tax (%(odoo)s) differs from Amazon's (%(amazon)s) by more than rounding: "
                "check the taxes of this order's products and the marketplace's tax settings. "
                "The difference (%(diff)s) is on an adjustment line so that the total stays "
                "Amazon's.", odoo=so.amount_tax, amazon=amazon_tax, diff=d_tax + d_net)
            vals.append(dict(base, name=_("Tax difference to check"), product_uom_qty=1,
                             price_unit=float(d_tax + d_net), tax_id=[(6, 0, [])]))
            info["problems"].append(problem)
            flagged[so] = info["problems"]
        if vals:
            self.env["sale.order.line"].create(vals)
        for so, problems in flagged.items():
            so.amazon_tax_problem = "\n".join(problems)
        for so in sale_orders:
            if so.amazon_tax_problem:
                so.message_post(body=so.amazon_tax_problem, subtype_xmlid="mail.mt_note")
