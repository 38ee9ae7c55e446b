"""Amazon stating no tax is not a zero: every source keeps the difference."""
from decimal import Decimal as D

from services.normalize import item_from_orders_2026, item_from_orders_api
from services.report_parser import dump_order_prices, order_prices_from_json, parse_all_orders
from services.tax_rates import plan_order
from tools.spapi_emulator.orders_2026 import item_proceeds
from tools.spapi_emulator.scenario import Scenario

UK = "A1F83G8C2ARO7P"
CENT = D("0.01")


def scenario_items(tax_data, tax="4.17"):
    scenario = Scenario()
    ref = scenario.add_order(marketplace_id=UK, tax_data=tax_data, items=[
        {"sku": "G", "qty": 1, "price": "24.99", "tax": tax, "shipping": "2.99", "shipping_tax": "0.50"}])
    return scenario, ref, scenario.orders[ref]["items"]


def test_v0_item_tax_absent_is_not_stated():
    _scenario, _ref, items = scenario_items(False)
    assert "ItemTax" not in items[0] and "ShippingTax" not in items[0]
    item = item_from_orders_api(items[0])
    assert not item.tax_stated and item.item_tax == 0
    _scenario, _ref, items = scenario_items(True, tax="0.00")
    assert item_from_orders_api(items[0]).tax_stated, "an explicit 0.00 is stated"


def test_2026_without_tax_breakdown_is_not_stated():
    for tax_data, tax, stated in ((False, "4.17", False), (True, "0.00", True), (True, "4.17", True)):
        _scenario, _ref, items = scenario_items(tax_data, tax)
        proceeds, _total = item_proceeds(items[0], "GBP", True)
        types = [b["type"] for b in proceeds["breakdowns"]]
        assert ("TAX" in types) == stated
        item = item_from_orders_2026({"orderItemId": "1", "quantityOrdered": 1,
                                      "product": {"sellerSku": "G"}, "proceeds": proceeds})
        assert item.tax_stated is stated


def test_all_orders_report_empty_item_tax_is_not_stated_and_survives_storage():
    scenario, ref, _items = scenario_items(False)
    prices, info, errors = parse_all_orders(scenario.all_orders_report(scenario.select()))
    assert not errors
    item = prices[(ref, "G")]
    assert not item.tax_stated
    _info, items = order_prices_from_json(dump_order_prices(info[ref], {"G": item}))
    assert not items["G"].tax_stated
    stated, _ref, _items = scenario_items(True, tax="0.00")
    prices, info, _errors = parse_all_orders(stated.all_orders_report(stated.select()))
    item = next(iter(prices.values()))
    assert item.tax_stated
    _info, items = order_prices_from_json(dump_order_prices({}, {"G": item}))
    assert items["G"].tax_stated


def test_plan_order_absent_lines_carry_no_rate():
    _scenario, _ref, items = scenario_items(False)
    item = item_from_orders_api(items[0])
    lines = plan_order([item], True, CENT, absent=True)
    assert [(line.kind, line.stated, line.rate) for line in lines] == [
        ("item", False, None), ("shipping", False, None)]
    # sales tax marketplaces (absent=False): Amazon's zero, as before
    lines = plan_order([item], True, CENT)
    assert all(line.stated and line.rate.rate == 0 for line in lines)
