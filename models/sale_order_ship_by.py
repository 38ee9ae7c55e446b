from datetime import timedelta

from odoo import _, api, fields, models

from ..services.const import UNSHIPPED_STATUSES


def _span(delta):
    """A duration as a seller reads it: "2 days 3 h", "5 h", "40 min"."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(days)s d %(hours)s h", days=days, hours=hours) if hours else _("%s d", days)
    if hours:
        return _("%s h", hours)
    return _("%s min", max(minutes, 1))


class SaleOrder(models.Model):
    """Amazon's ship-by date on the order and on its open delivery."""

    _inherit = "sale.order"

    # === FIELDS ===
    amazon_time_to_ship = fields.Char(
        "Time to Ship", compute="_compute_amazon_time_to_ship",
        help="Time left until Amazon's ship-by date; \"late by\" once it passed, \"shipped\" "
             "once the order left.")

    # === COMPUTE METHODS ===
    @api.depends("amazon_ship_by_date", "amazon_status", "state", "delivery_status")
    def _compute_amazon_time_to_ship(self):
        now = fields.Datetime.now()
        for order in self:
            order.amazon_time_to_ship = order._amazon_time_to_ship(now)

    def _amazon_time_to_ship(self, now):
        self.ensure_one()
        if not self.amazon_order_ref:
            return False
        if self.state == "cancel" or self.amazon_status == "Canceled":
            return _("cancelled")
        if self.delivery_status == "full" or (
                self.amazon_status and self.amazon_status not in UNSHIPPED_STATUSES + ("Pending",)):
            return _("shipped")
        if not self.amazon_ship_by_date:
            return False
        left = self.amazon_ship_by_date - now
        if left < timedelta(0):
            return _("late by %s", _span(-left))
        return _("%s left", _span(left))

    # === BUSINESS METHODS ===
    def _amazon_apply_ship_by(self, dates):
        """Amazon's ship-by dates of orders Odoo already has (``{order id: datetime}``),
        as an import saw them again: the orders and their open deliveries take them."""
        changed = self.filtered(lambda so: dates.get(so.id) and so.amazon_ship_by_date != dates[so.id])
        for order in changed:
            order.amazon_ship_by_date = dates[order.id]
        changed._amazon_set_delivery_deadline()
        return changed

    def _amazon_set_delivery_deadline(self):
        """The open deliveries are due by the ship-by date: their deadline and
        scheduled date (unless the seller promised a delivery date himself)."""
        for order in self.filtered(lambda so: so.amazon_ship_by_date and not so.commitment_date):
            pickings = order.picking_ids.filtered(
                lambda p: p.picking_type_code == "outgoing" and p.state not in ("done", "cancel"))
            if not pickings:
                continue
            deadline = order.amazon_ship_by_date
            pickings.move_ids.filtered(lambda m: m.state not in ("done", "cancel")).write(
                {"date_deadline": deadline})
            pickings.write({"scheduled_date": order._amazon_planned_date()})

    def _amazon_planned_date(self):
        self.ensure_one()
        return self.amazon_ship_by_date - timedelta(days=self.company_id.security_lead)


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    def _prepare_procurement_values(self, group_id=False):
        """The delivery of an Amazon order is due by Amazon's ship-by date, not by
        the products' lead time from the import."""
        values = super()._prepare_procurement_values(group_id)
        order = self.order_id
        if order.amazon_ship_by_date and not order.commitment_date:
            values.update({"date_deadline": order.amazon_ship_by_date,
                           "date_planned": order._amazon_planned_date()})
        return values
