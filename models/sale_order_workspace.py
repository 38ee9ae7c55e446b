from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.tools.misc import format_datetime

from ..services.const import UNSHIPPED_STATUSES

SOURCE_KINDS = [("amazon.report.request", "Sale Order Report"), ("amazon.order.queue", "Order Data Queue")]


class SaleOrder(models.Model):
    """The FBM orders workspace: late orders, and where each order came from."""

    _inherit = "sale.order"

    amazon_source_ref = fields.Reference(
        SOURCE_KINDS, string="Imported From", copy=False, readonly=True,
        help="The Sale Order Report or order data queue that created this order.")
    amazon_late = fields.Boolean(
        "Late to Ship", compute="_compute_amazon_late", search="_search_amazon_late",
        help="Amazon still waits for this order's shipment and its ship-by date has passed.")

    # === COMPUTE METHODS ===
    @api.model
    def _amazon_late_domain(self):
        return [("amazon_status", "in", list(UNSHIPPED_STATUSES)), ("state", "!=", "cancel"),
                ("delivery_status", "!=", "full"), ("amazon_ship_by_date", "!=", False),
                ("amazon_ship_by_date", "<", fields.Datetime.now())]

    @api.depends("amazon_status", "amazon_ship_by_date", "state", "delivery_status")
    def _compute_amazon_late(self):
        now = fields.Datetime.now()
        for order in self:
            order.amazon_late = bool(
                order.amazon_status in UNSHIPPED_STATUSES and order.state != "cancel"
                and order.delivery_status != "full"
                and order.amazon_ship_by_date and order.amazon_ship_by_date < now)

    def _search_amazon_late(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise NotImplementedError(_("Search 'Late to Ship' with = True or = False."))
        late = self._search(self._amazon_late_domain())
        positive = (operator == "=") == value
        return [("id", "in" if positive else "not in", late)]

    # === BUSINESS METHODS ===
    def _amazon_source_link(self, source):
        kind = dict(self._fields["amazon_source_ref"]._description_selection(self.env))[source._name]
        return Markup('%s <a href="#" data-oe-model="%s" data-oe-id="%s">%s</a>') % (
            kind, source._name, source.id, source.name)

    def _amazon_log_origin(self, source):
        """Record and say in the chatter which report or queue created these orders."""
        orders = self.filtered(lambda o: not o.amazon_source_ref)
        if not orders:
            return
        orders.write({"amazon_source_ref": "%s,%s" % (source._name, source.id)})
        when = format_datetime(self.env, fields.Datetime.now(), tz=self.env.user.tz or "UTC")
        body = Markup(_("Imported from %(source)s on %(when)s.")) % {
            "source": self._amazon_source_link(source), "when": when}
        orders._message_log_batch({order.id: body for order in orders})

    def _amazon_log_shipped(self, source):
        body = Markup(_("Amazon reports this order shipped (%(source)s): its delivery is validated.")) % {
            "source": self._amazon_source_link(source)}
        self._message_log_batch({order.id: body for order in self})
