"""How many units of a product a buyer may order on Amazon, from Odoo's stock.

For a storable product in one warehouse: the free quantity (on hand less what
is reserved) and, stricter when a confirmed delivery could not reserve yet, on
hand less every outgoing delivery's demand: the smaller of the two, whole
units, never below 0. A kit (phantom BoM) offers the number of complete kits its
components make (Odoo's own rule: per component, units / units per kit; the
smallest, times the BoM's quantity, rounded down). Consumables and services
have no stock to offer (``None``). Takes an Odoo environment; reads in batch.
"""
import math


def _component_units(quantities, product):
    q = quantities.get(product.id)
    if q is None:
        return 0.0
    return max(0.0, min(q["free_qty"], q["qty_available"] - q["outgoing_qty"]))


def sellable_quantities(env, products, warehouse):
    """``{product id: int or None}`` for ``products`` in ``warehouse``."""
    products = products.with_context(active_test=False)
    kits = env["mrp.bom"].sudo()._bom_find(products, bom_type="phantom", company_id=warehouse.company_id.id)
    exploded = {}
    components = env["product.product"]
    for product in products:
        bom = kits.get(product)
        if bom:
            __, lines = bom.explode(product, 1)
            exploded[product] = (bom, lines)
            components |= env["product.product"].browse([line.product_id.id for line, __ in lines])
    storable = (products.filtered(lambda p: p.type == "product" and p not in exploded)
                | components.filtered(lambda p: p.type == "product"))
    quantities = {}
    if storable:
        for row in storable.sudo().with_context(warehouse=warehouse.id).read(
                ["qty_available", "free_qty", "outgoing_qty"]):
            quantities[row["id"]] = row
    result = {}
    for product in products:
        if product in exploded:
            bom, lines = exploded[product]
            per_kit = {}
            for line, data in lines:
                component = line.product_id
                if component.type != "product" or not data["qty"]:
                    continue
                per_kit[component] = per_kit.get(component, 0.0) + line.product_uom_id._compute_quantity(
                    data["qty"] / data["original_qty"], component.uom_id, round=False,
                    raise_if_failure=False)
            ratios = [_component_units(quantities, c) / qty for c, qty in per_kit.items() if qty > 0]
            result[product.id] = (max(0, math.floor(min(ratios) * bom.product_qty + 1e-9))
                                  if ratios else None)
        elif product.type == "product":
            result[product.id] = max(0, math.floor(_component_units(quantities, product) + 1e-9))
        else:
            result[product.id] = None
    return result
