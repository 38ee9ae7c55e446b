"""Amazon's rate read back from its amounts, and layouts Odoo reproduces."""
from decimal import Decimal as D

import pytest

from services.normalize import Item
from services.tax_rates import PREFERRED, STEPS, lines_tax, money_split, plan_order, snap_rate, totals

CENT = D("0.01")


@pytest.mark.parametrize("amounts, tax, included, rate", [
    (["42.02"], "7.98", False, "19"),          # net 42.02 at 19 %
    (["50.00"], "7.98", True, "19"),           # DE gross 50.00 incl. 19 %
    (["10.00"], "0.65", True, "7"),            # DE book incl. 7 %
    (["12.00"], "2.00", True, "20"),           # UK incl. 20 %
    (["9.99"], "0.00", True, "0"),             # UK zero rated
    (["20.97"], "1.52", False, "7.25"),        # US CA, one line
    (["6.99"] * 3, "1.53", False, "7.25"),     # US CA, tax rounded per unit
    (["100.00"], "10.25", False, "10.25"),     # US Seattle
    (["80.00"], "7.10", False, "8.875"),       # US NYC
    (["39.99"], "0.00", False, "0"),           # US Oregon
    (["2.99"], "0.48", True, "19"),            # small amount: 19 is the coarsest fit
])
def test_snap_rate(amounts, tax, included, rate):
    got = snap_rate([D(a) for a in amounts], D(tax), included, CENT)
    assert got is not None and got.exact
    assert got.rate == D(rate), got


def test_coarsest_step_wins_and_preferred_first():
    # 0.83 net at 0.16 tax fits 18.6 % .. 20 %: 19 (step 1) wins over 19.28
    assert snap_rate([D("0.99")], D("0.16"), True, CENT).rate == D(19)
    # 0.08 on 0.50 gross fits 19 % and 20 %: the order's 20 % comes first
    assert snap_rate([D("0.50")], D("0.08"), True, CENT).rate == D(19)
    got = snap_rate([D("0.50")], D("0.08"), True, CENT, preferred=[D(20)])
    assert (got.rate, got.quality) == (D(20), PREFERRED)
    # a preferred rate that does not fit is passed over
    assert snap_rate([D("42.02")], D("7.98"), False, CENT, preferred=[D(15)]).rate == D(19)


def test_no_rate_explains_tax_on_nothing():
    assert snap_rate([D("0.00")], D("0.50"), False, CENT) is None
    assert snap_rate([D("0.00")], D("0.00"), False, CENT).rate == 0
    assert snap_rate([D("10.00")], D("-1.00"), False, CENT) is None


def test_lines_tax_matches_odoo_rounding():
    assert lines_tax([D("20.97")], D("7.25"), False, CENT) == D("1.52")
    assert lines_tax([D("6.99")] * 3, D("7.25"), False, CENT) == D("1.53")
    assert lines_tax([D("-2.00")], D("8.25"), False, CENT) == D("-0.17")   # half away from zero
    assert lines_tax([D("50.00")], D("19"), True, CENT) == D("7.98")


def test_money_split_keeps_the_total():
    for amount, qty in (("50.00", 3), ("20.97", 3), ("10.00", 1), ("0.05", 7)):
        split = money_split(D(amount), qty, CENT)
        assert sum(totals(split)) == D(amount)
        assert sum(q for q, _u in split) == qty


def item(**kw):
    kw.setdefault("sku", "X")
    kw.setdefault("quantity", 1)
    for key, value in list(kw.items()):
        if isinstance(value, str) and key not in ("sku",):
            kw[key] = D(value)
    return Item(priced=True, **kw)


def test_plan_per_unit_rounding_splits_the_line():
    [line] = plan_order([item(quantity=3, item_price="20.97", item_tax="1.53")], False, CENT)
    assert line.rate.rate == D("7.25") and line.rate.exact
    assert line.split == [(1, D("6.99"))] * 3


def test_plan_us_promotion_on_discounted_price():
    # The reports carry no promotion tax: Amazon taxed 18.00 at 8.25 % = 1.49.
    lines = plan_order([item(quantity=2, item_price="20.00", item_tax="1.49",
                             promotion_discount="2.00", shipping_price="4.99",
                             shipping_tax="0.41")], False, CENT)
    rates = {line.kind: line.rate for line in lines}
    assert rates["item"].rate == rates["promotion"].rate == rates["shipping"].rate == D("8.25")
    assert not rates["item"].exact          # 1.65 - 0.17 = 1.48: one cent of rounding


def test_plan_eu_promotion_taxed_apart():
    lines = plan_order([item(item_price="50.00", item_tax="7.98", promotion_discount="5.00",
                             promotion_discount_tax="0.80")], True, CENT)
    assert [(l.kind, l.rate.rate, l.rate.exact) for l in lines] == [
        ("item", D(19), True), ("promotion", D(19), True)]


def test_plan_mixed_rates_shipping_follows_each_item():
    lines = plan_order([
        item(sku="BOOK", item_price="10.00", item_tax="0.65", shipping_price="2.99",
             shipping_tax="0.20"),
        item(sku="TOY", item_price="30.00", item_tax="4.79", shipping_price="2.99",
             shipping_tax="0.48"),
        item(sku="TOY2", item_price="20.00", item_tax="3.19", shipping_price="1.00",
             shipping_tax="0.16")], True, CENT)
    by_kind = [(l.kind, l.rate.rate, sum(totals(l.split))) for l in lines]
    assert by_kind == [("item", D(7), D("10.00")), ("item", D(19), D("30.00")),
                       ("item", D(19), D("20.00")), ("shipping", D(7), D("2.99")),
                       ("shipping", D(19), D("3.99"))]


def test_product_rate_preferred():
    lines = plan_order([item(item_price="0.10", item_tax="0.02")], True, CENT, [(D(19),)])
    assert lines[0].rate.rate == D(19) and lines[0].rate.quality == PREFERRED


def test_steps_are_coarsest_first():
    assert list(STEPS) == sorted(STEPS, reverse=True)


def test_plan_promotion_that_does_not_reduce_the_tax():
    # Amazon charged 8.25 % on the full 50.00 and no promotion tax: the promotion
    # is untaxed (0 %), the item keeps its clean 8.25 % (not a rate like 8.42 %).
    lines = plan_order([item(item_price="50.00", item_tax="4.13", promotion_discount="1.00")],
                       False, CENT)
    assert [(l.kind, l.rate.rate, l.rate.exact) for l in lines] == [
        ("item", D("8.25"), True), ("promotion", D(0), True)]
