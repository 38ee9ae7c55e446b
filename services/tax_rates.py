"""Amazon's tax rate from Amazon's amounts, and line layouts whose tax Odoo's
engine reproduces to the cent. Pure Python (no Odoo), money as ``Decimal``.

Amazon does not say which rate it applied, only the amounts: ``rate = tax / net``
is read back and snapped to the plausible rate it came from (19, 7, 20, 0,
7.25, 10.25 ...). A rate is plausible when Odoo, computing the same lines with
it (rounding per line, half away from zero, like ``account.tax.compute_all``),
gets Amazon's tax to the cent; among those, the coarsest step wins (19 before
19.05, 7.25 before 7.3). Small amounts fit many rates: the caller's preferred
rates (the product's tax, the order's other lines) come first.
"""
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
HUNDRED = Decimal(100)
# Coarsest first. Real rates sit on these steps: 19 / 7 / 20 (1), 5.5 (0.5),
# 7.25 / 10.25 (0.25), 8.875 (0.125), 6.35 (0.05), 9.975 (0.025), 4.712 (0.001).
STEPS = tuple(Decimal(s) for s in ("1", "0.5", "0.25", "0.125", "0.05", "0.025", "0.01",
                                   "0.005", "0.001"))
PREFERRED = -1          # quality of a rate the caller asked to try first
MAX_UNIT_LINES = 20     # per-unit layout (one line per unit) up to this quantity


@dataclass(frozen=True)
class Rate:
    """A rate (percent) read from Amazon's amounts."""
    rate: Decimal
    quality: int        # PREFERRED, else the index in STEPS of the coarsest step it sits on
    exact: bool         # Odoo's tax on the lines equals Amazon's to the cent


def line_tax(amount, rate, included, cent):
    """The tax Odoo computes for one line of total ``amount`` (round per line)."""
    if not amount or not rate:
        return ZERO
    base = abs(amount)
    tax = base - base / (1 + rate / HUNDRED) if included else base * rate / HUNDRED
    tax = tax.quantize(cent, rounding=ROUND_HALF_UP)
    return tax if amount > 0 else -tax


def lines_tax(amounts, rate, included, cent):
    return sum((line_tax(a, rate, included, cent) for a in amounts), ZERO)


def _candidates(raw):
    for idx, step in enumerate(STEPS):
        near = (raw / step).to_integral_value(rounding=ROUND_HALF_UP) * step
        for rate in sorted({near - step, near, near + step}, key=lambda r: (abs(r - raw), r)):
            if rate >= 0:
                yield idx, rate


def raw_rate(amounts, tax, included):
    """tax / net in percent, or None when there is no net to divide by."""
    total = sum(amounts, ZERO)
    net = total - tax if included else total
    if not net:
        return None
    return tax / net * HUNDRED


def snap_rate(amounts, tax, included, cent, preferred=(), approximate=False):
    """The rate Amazon applied to charge ``tax`` on ``amounts`` (the totals of
    the Odoo lines that carry it, tax included when ``included``).

    Returns a ``Rate``, or None when no rate explains Amazon's amounts. With
    ``approximate``, a plausible rate that misses by one ``cent`` (rounding of
    several lines that Amazon rounded as one) is accepted when none is exact
    on a step of 0.125 or coarser."""
    cent = Decimal(cent)

    def fits(rate):
        return lines_tax(amounts, rate, included, cent) == tax

    def near(rate):
        return abs(lines_tax(amounts, rate, included, cent) - tax) <= cent

    for rate in preferred:
        if fits(rate):
            return Rate(_clean(rate), PREFERRED, True)
    raw = raw_rate(amounts, tax, included)
    if raw is None:
        return Rate(ZERO, 0, True) if not tax else None
    if raw < 0 or raw >= HUNDRED:
        return None
    exact = next(((idx, rate) for idx, rate in _candidates(raw) if fits(rate)), None)
    coarse = STEPS.index(Decimal("0.125"))
    if approximate and (exact is None or exact[0] > coarse):
        for rate in preferred:
            if near(rate):
                return Rate(_clean(rate), PREFERRED, False)
        for idx, rate in _candidates(raw):
            if idx > coarse:
                break
            if near(rate):
                return Rate(_clean(rate), idx, False)
    if exact:
        return Rate(_clean(exact[1]), exact[0], True)
    return None


def _clean(rate):
    rate = Decimal(rate).quantize(Decimal("0.0001"))
    return rate.normalize() if rate else ZERO


def money_split(amount, quantity, cent):
    """[(quantity, unit price)] whose totals add up to ``amount`` exactly: one
    line when the unit price is a whole cent, else (quantity - 1) x the unit
    price rounded down + 1 x the remainder."""
    cent = Decimal(cent)
    quantity = quantity if quantity and quantity > 0 else 1
    unit = (amount / quantity).quantize(cent, rounding=ROUND_DOWN)
    if quantity == 1 or unit * quantity == amount:
        return [(quantity, amount / quantity)]
    return [(quantity - 1, unit), (1, amount - unit * (quantity - 1))]


def unit_split(amount, quantity, cent):
    """One line per unit (Amazon rounds some taxes per unit), or None when the
    unit price is not a whole cent or the quantity is too large for it."""
    cent = Decimal(cent)
    if not quantity or quantity < 2 or quantity > MAX_UNIT_LINES:
        return None
    unit = amount / quantity
    if unit != unit.quantize(cent):
        return None
    return [(1, unit)] * quantity


def totals(split):
    return [qty * unit for qty, unit in split]


# ---------------------------------------------------------------- planning
@dataclass
class PlannedLine:
    """One Odoo order line (or a run of equal lines) and the rate it carries."""
    kind: str               # item / shipping / gift_wrap / promotion
    items: tuple            # the Amazon items it comes from
    split: list             # [(quantity, unit price)]
    amazon_tax: Decimal     # the tax Amazon charged for it
    rate: Rate = None       # None: no rate explains Amazon's amounts
    stated: bool = True     # False: Amazon stated no tax for it (no rate to read back)


def _plan_item(item, included, cent, preferred):
    """Item lines (and the item's promotion) -> (item PlannedLine, promotion PlannedLine or None)."""
    price, tax = item.item_price, item.item_tax
    money = money_split(price, item.quantity, cent)
    discount, discount_tax = item.promotion_discount, item.promotion_discount_tax
    if not discount:
        rate = snap_rate(totals(money), tax, included, cent, preferred)
        units = unit_split(price, item.quantity, cent)
        if units and not (rate and rate.exact and rate.quality == PREFERRED):
            per_unit = snap_rate(totals(units), tax, included, cent, preferred)
            if per_unit and per_unit.exact and (
                    not rate or not rate.exact or per_unit.quality < rate.quality):
                money, rate = units, per_unit
        return PlannedLine("item", (item,), money, tax, rate), None
    # Amazon taxed item and promotion apart (PromotionDiscountTax set, or the
    # promotion does not reduce the tax), or it taxed the discounted price once
    # (the reports carry no promotion tax): the cleaner reading wins.
    item_rate = snap_rate(totals(money), tax, included, cent, preferred)
    promo_rate = item_rate and snap_rate([-discount], -discount_tax, included, cent,
                                         [item_rate.rate])
    apart = bool(item_rate and promo_rate and item_rate.exact and promo_rate.exact)
    if not (apart and promo_rate.rate == item_rate.rate):
        amounts, group_tax = totals(money) + [-discount], tax - discount_tax
        together = snap_rate([price - discount], group_tax, included, cent, preferred)
        if together:
            miss = abs(lines_tax(amounts, together.rate, included, cent) - group_tax)
            together = Rate(together.rate, together.quality, not miss) if miss <= cent else None
        together = together or snap_rate(amounts, group_tax, included, cent, preferred,
                                         approximate=True)
        if together and (not apart or together.quality < item_rate.quality):
            item_rate = promo_rate = together
        elif not apart:
            item_rate = promo_rate = together
    return (PlannedLine("item", (item,), money, tax, item_rate),
            PlannedLine("promotion", (item,), [(1, -discount)], -discount_tax, promo_rate))


def _merge(lines, included, cent):
    """One line per (kind, rate) where the merged line's tax is still Amazon's;
    else the lines stay apart."""
    groups, out = {}, []
    for line in lines:
        key = (line.kind, line.rate.rate if line.rate else None)
        groups.setdefault(key, []).append(line)
    for (kind, rate), group in groups.items():
        if rate is None:      # no rate (unexplained, or no tax stated): the lines stay apart
            out.extend(group)
            continue
        amount = sum((sum(totals(g.split), ZERO) for g in group), ZERO)
        tax = sum((g.amazon_tax for g in group), ZERO)
        if len(group) > 1 and rate is not None and \
                lines_tax([amount], rate, included, cent) == tax and all(g.rate.exact for g in group):
            quality = max(g.rate.quality for g in group)
            out.append(PlannedLine(kind, tuple(i for g in group for i in g.items),
                                   [(1, amount)], tax, Rate(rate, quality, True)))
        else:
            out.extend(group)
    return out


def _plan_unstated(item, cent):
    """The lines of an item whose tax Amazon did not state: Amazon's amounts,
    no rate read back (the seller's taxes carry them)."""
    lines = [PlannedLine("item", (item,), money_split(item.item_price, item.quantity, cent), ZERO,
                         None, False)]
    for kind, amount in (("shipping", item.shipping_price - item.shipping_discount),
                         ("gift_wrap", item.gift_wrap_price), ("promotion", -item.promotion_discount)):
        if amount:
            lines.append(PlannedLine(kind, (item,), [(1, amount)], ZERO, None, False))
    return lines


def plan_order(items, included, cent, product_rates=None, absent=False):
    """Amazon's items -> planned lines: item lines in Amazon's order, then
    shipping, gift wrap and promotion lines (one per rate where possible).

    ``product_rates``: per item, the rates of the taxes its product already
    carries, tried first. Items are read biggest first: a big amount pins the
    rate down, and the order's small lines (shipping) then prefer it.

    ``absent``: an item whose tax Amazon did not state (``Item.tax_stated``) is
    not read as a zero rate: its lines come out with ``stated=False`` and no
    rate. Without it, an unstated tax is Amazon's zero (sales tax marketplaces)."""
    cent = Decimal(cent)
    product_rates = product_rates or [()] * len(items)
    order_rates, planned = [], {}
    for idx in sorted(range(len(items)), key=lambda i: -abs(items[i].item_price)):
        item = items[idx]
        if absent and not item.tax_stated:
            lines = _plan_unstated(item, cent)
            promo = next((line for line in lines if line.kind == "promotion"), None)
            planned[idx] = (lines[0], promo, [line for line in lines[1:] if line is not promo])
            continue
        preferred = list(product_rates[idx]) + [r for r in order_rates if r not in product_rates[idx]]
        item_line, promo_line = _plan_item(item, included, cent, preferred)
        item_rate = item_line.rate.rate if item_line.rate else None
        if item_rate is not None and item_rate not in order_rates:
            order_rates.append(item_rate)
        near = ([item_rate] if item_rate is not None else []) + [r for r in preferred if r != item_rate]
        extras = []
        for kind, amount, tax in (
                ("shipping", item.shipping_price - item.shipping_discount,
                 item.shipping_tax - item.shipping_discount_tax),
                ("gift_wrap", item.gift_wrap_price, item.gift_wrap_tax)):
            if amount or tax:
                extras.append(PlannedLine(kind, (item,), [(1, amount)], tax,
                                          snap_rate([amount], tax, included, cent, near)))
        planned[idx] = (item_line, promo_line, extras)
    items_out = [planned[i][0] for i in range(len(items))]
    extras = [line for i in range(len(items)) for line in planned[i][2]]
    promos = [planned[i][1] for i in range(len(items)) if planned[i][1]]
    order = {"shipping": 0, "gift_wrap": 1, "promotion": 2}
    tail = sorted(_merge(extras + promos, included, cent), key=lambda l: order[l.kind])
    return items_out + tail
