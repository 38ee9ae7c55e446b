"""Tell Amazon what left the warehouse: one ``confirmShipment`` per delivery.

A validated delivery of an Amazon FBM order becomes one package: its
``packageReferenceId`` is the delivery's id (a positive number, stable, so a
re-send edits the package on Amazon instead of adding one), the carrier code
comes from the Odoo carrier (table ``amazon.carrier.code``, else a carrier
named like an Amazon code, else ``Other`` with the carrier's name), and the
order items are those this delivery completes: for a kit, an order item counts
as shipped once all its components have left.

This module builds the request (``package_detail``, ``CarrierTable``) and explains
Amazon's refusals (``explain``). The state machine (to send, sent, failed, not
needed; retries with backoff; a refusal waits for the seller) lives on
``stock.picking`` (``_amazon_confirm_send`` and the methods it calls), where other
addons extend it.
"""
import logging
import math
import re

from odoo import _, fields

from .normalize import iso_time

_logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF_MINUTES = 5
OTHER = "Other"
STATES = [("not_needed", "Not Needed"), ("to_send", "To Send"), ("sent", "Sent"), ("failed", "Failed")]


class ConfirmationProblem(Exception):
    """Something the seller must fix before Amazon can be told (the message says what)."""


# ============================================================ carriers
def _words(text):
    return re.findall(r"[a-z0-9]+", (text or "").lower())


class CarrierTable:
    """Amazon carrier codes of the editable table, loaded once per batch."""

    def __init__(self, env):
        codes = env["amazon.carrier.code"].sudo().search([])
        self.by_carrier = {}
        self.by_words = []
        for rec in codes:
            for carrier in rec.carrier_ids:
                self.by_carrier.setdefault(carrier.id, rec.code)
            if rec.code != OTHER:
                for label in {rec.code, rec.name or rec.code}:
                    if _words(label):
                        self.by_words.append((_words(label), rec.code))
        # longest names first: "Deutsche Post" before "DHL" in "Deutsche Post DHL"
        self.by_words.sort(key=lambda item: -len(item[0]))

    def resolve(self, carrier):
        """``(carrierCode, carrierName or None)`` for an Odoo carrier."""
        if carrier.id in self.by_carrier:
            code = self.by_carrier[carrier.id]
            return code, (carrier.name if code == OTHER else None)
        words = _words(carrier.name)
        for code_words, code in self.by_words:
            short = len("".join(code_words)) < 3
            if words == code_words or (not short and words[:len(code_words)] == code_words):
                return code, None
        return OTHER, carrier.name


# ============================================================ quantities
def _kit_bom(line):
    boms = line.move_ids.bom_line_id.bom_id.filtered(
        lambda b: b.type == "phantom" and (b.product_id == line.product_id or (
            not b.product_id and b.product_tmpl_id == line.product_id.product_tmpl_id)))
    return boms[:1]


def _delivered(line, pickings, bom):
    """Units of ``line`` (in its UoM) delivered to the customer by ``pickings``."""
    moves = line.move_ids.filtered(lambda m: m.state == "done" and m.picking_id in pickings
                                   and m.location_dest_id.usage == "customer")
    if not moves:
        return 0.0
    if bom:
        order_qty = line.product_uom._compute_quantity(line.product_uom_qty, bom.product_uom_id)
        qty = moves._compute_kit_quantities(line.product_id, order_qty, bom, {
            "incoming_moves": lambda m: True, "outgoing_moves": lambda m: False})
        return bom.product_uom_id._compute_quantity(qty, line.product_uom)
    return sum(m.product_uom._compute_quantity(m.quantity, line.product_uom) for m in moves)


def item_quantities(picking):
    """``{orderItemId: units}`` this delivery completes (kits: all components shipped)."""
    order = picking.sale_id
    done = order.picking_ids.filtered(
        lambda p: p.state == "done" and p.location_dest_id.usage == "customer")
    key = (picking.date_done, picking.id)
    earlier = done.filtered(lambda p: (p.date_done, p.id) < key)
    through = earlier | picking
    out = {}
    for line in order.order_line.filtered("amazon_order_item_id"):
        bom = _kit_bom(line)
        units = math.floor(_delivered(line, through, bom) + 1e-6) - \
            math.floor(_delivered(line, earlier, bom) + 1e-6)
        if units > 0:
            out[line.amazon_order_item_id] = out.get(line.amazon_order_item_id, 0) + units
    return out


# ============================================================ payload
def package_detail(picking, carriers):
    """The ``packageDetail`` of one delivery; None when it completes no order item.
    Raises ``ConfirmationProblem`` when the seller must complete the delivery first."""
    quantities = item_quantities(picking)
    if not quantities:
        return None
    carrier = picking.carrier_id
    if not carrier:
        raise ConfirmationProblem(_(
            "Choose the carrier on the delivery (Additional Info > Carrier): Amazon needs to "
            "know who delivers the package. Then click Send to Amazon."))
    tracking = (picking.carrier_tracking_ref or "").split(",")[0].strip()
    if not tracking:
        raise ConfirmationProblem(_(
            "Enter the tracking number on the delivery (Additional Info > Tracking Reference): "
            "Amazon requires one for every package. Then click Send to Amazon."))
    code, name = carriers.resolve(carrier)
    detail = {
        "packageReferenceId": str(picking.id),
        "carrierCode": code,
        "shippingMethod": carrier.name,
        "trackingNumber": tracking,
        "shipDate": iso_time(fields.Datetime.to_datetime(picking.date_done or fields.Datetime.now())),
        "orderItems": [{"orderItemId": item_id, "quantity": qty}
                       for item_id, qty in sorted(quantities.items())],
    }
    if name:
        detail["carrierName"] = name
    return detail


def explain(exc, picking, detail):
    """Amazon's refusal, plus what the seller should do about it."""
    text = str(exc)
    low = text.lower()
    carrier = picking.carrier_id.name or ""
    if "carriercode" in low:
        hint = _("Amazon does not know carrier code %(code)s (carrier %(carrier)s): correct it "
                 "under Amazon > Configuration > Carrier Codes, or unlink the carrier there so it "
                 "is sent as Other with its name.", code=(detail or {}).get("carrierCode"), carrier=carrier)
    elif "carriername" in low:
        hint = _("Give the carrier a name, or map it to an Amazon carrier code under Amazon > "
                 "Configuration > Carrier Codes.")
    elif "trackingnumber" in low:
        hint = _("Enter the tracking number on the delivery, then click Send to Amazon.")
    elif "left to ship" in low or "already shipped" in low:
        hint = _("Amazon already counts these items as shipped (confirmed in Seller Central, or "
                 "by another delivery). Check the order in Seller Central; if Amazon is right, "
                 "click Not Needed.")
    elif "cancel" in low:
        hint = _("Amazon cancelled this order: do not ship it. If it left already, arrange the "
                 "return with the buyer.")
    elif "not part of order" in low:
        hint = _("An order line carries an order item id Amazon does not know for this order.")
    else:
        hint = _("Fix the delivery, then click Send to Amazon.")
    return "%s\n%s" % (text, hint)
