from collections import OrderedDict
from decimal import Decimal

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..services import errors as amazon_errors
from ..services.const import ADJUSTMENT_REASONS, FEED_CONTENT_TYPE_XML, FEED_PAYMENT_ADJUSTMENT

REFUND_CRON = "amazon_fbm_connector.ir_cron_amazon_send_refunds"
REFUND_STATES = [("to_send", "Refund Queued"), ("sent", "Refund Sent"),
                 ("accepted", "Refunded by Amazon"), ("rejected", "Rejected")]


class AccountMove(models.Model):
    _inherit = "account.move"

    # === FIELDS ===
    amazon_refund_state = fields.Selection(
        REFUND_STATES, string="Refund on Amazon", copy=False, readonly=True, index=True,
        help="This credit note's refund sent to Amazon (payment adjustment feed): queued, sent, "
             "refunded by Amazon, or rejected with Amazon's message.")
    amazon_refund_reason = fields.Selection(
        [(r, r) for r in ADJUSTMENT_REASONS], string="Amazon Refund Reason", copy=False,
        help="Amazon's AdjustmentReason sent with the refund.")
    amazon_refund_feed_ref = fields.Char("Refund Feed ID", copy=False, readonly=True)
    amazon_refund_message = fields.Text("Amazon's Refund Answer", copy=False, readonly=True)
    amazon_refundable = fields.Boolean(compute="_compute_amazon_refundable")

    # === COMPUTE METHODS ===
    @api.depends("move_type", "state", "invoice_line_ids.sale_line_ids")
    def _compute_amazon_refundable(self):
        for move in self:
            move.amazon_refundable = bool(move.move_type == "out_refund" and move.state == "posted"
                                          and move._amazon_refund_order())

    # === ACTION METHODS ===
    def action_amazon_send_refund(self):
        """Refund on Amazon: queue this posted credit note's refund (the cron sends it)."""
        for move in self:
            move._amazon_refund_components()      # a clear error now rather than from the cron
            if move.amazon_refund_state in ("to_send", "sent", "accepted"):
                raise UserError(_("The refund of %s is already sent to Amazon.", move.name))
            move.write({"amazon_refund_state": "to_send", "amazon_refund_message": False,
                        "amazon_refund_reason": move.amazon_refund_reason or "CustomerReturn"})
            move.message_post(body=_("Refund queued for Amazon by %s.", self.env.user.name))
        from ..services.runner import Runner
        Runner(self.env).trigger(cron=REFUND_CRON)
        return True

    # === BUSINESS METHODS ===
    def _amazon_refund_order(self):
        self.ensure_one()
        return self.invoice_line_ids.sale_line_ids.order_id.filtered("amazon_order_ref")[:1]

    def _amazon_refund_components(self):
        """{AmazonOrderItemCode: {component: Decimal}} of a posted Amazon credit note: item
        lines give Principal and Tax, shipping lines Shipping and ShippingTax (on the credit
        note's first item). Raises ``UserError`` for what Amazon cannot be sent."""
        self.ensure_one()
        order = self._amazon_refund_order()
        if self.move_type != "out_refund" or self.state != "posted" or not order:
            raise UserError(_("Only a posted credit note of an Amazon order can be refunded on Amazon."))
        shipping_product = order.amazon_seller_id.shipping_product_id
        items, shipping = OrderedDict(), {"Shipping": Decimal(0), "ShippingTax": Decimal(0)}
        for line in self.invoice_line_ids.filtered(lambda l: l.display_type == "product"):
            net = Decimal(str(line.price_subtotal))
            tax = Decimal(str(line.price_total)) - net
            item_ids = [code for code in line.sale_line_ids.mapped("amazon_order_item_id") if code]
            if item_ids:
                comp = items.setdefault(item_ids[0], {"Principal": Decimal(0), "Tax": Decimal(0)})
                comp["Principal"] += net
                comp["Tax"] += tax
            elif shipping_product and line.product_id == shipping_product:
                shipping["Shipping"] += net
                shipping["ShippingTax"] += tax
            else:
                raise UserError(_("Credit note %(move)s: the line %(line)s is not an Amazon item or "
                                  "Amazon shipping; refund it in Seller Central.",
                                  move=self.name, line=line.name))
        if not items:
            raise UserError(_("Credit note %s refunds no Amazon item.", self.name))
        first = next(iter(items.values()))
        first.update({k: v for k, v in shipping.items() if v})
        for comp in items.values():
            for kind, amount in list(comp.items()):
                if amount < 0:
                    raise UserError(_("Credit note %(move)s: a negative %(kind)s refund cannot be "
                                      "sent to Amazon.", move=self.name, kind=kind))
                if not amount:
                    del comp[kind]
        return items

    @api.model
    def _cron_send_amazon_refunds(self):
        """Send each seller's queued refunds in one payment adjustment feed; read the answers."""
        from ..services.runner import Runner
        runner = Runner(self.env, cron=REFUND_CRON)
        moves = self.sudo().search([("amazon_refund_state", "in", ("to_send", "sent"))])
        seller_of = {move: move._amazon_refund_order().amazon_seller_id for move in moves}
        for seller in self.env["amazon.seller"].union(*seller_of.values()):
            if runner.out_of_time():
                runner.trigger()
                break
            client = runner.client(seller)
            for feed_ref in {m.amazon_refund_feed_ref for m, s in seller_of.items()
                             if s == seller and m.amazon_refund_state == "sent"}:
                if runner.run_batch(self._amazon_check_refund_feed, client, feed_ref) is False:
                    runner.trigger()
            if runner.run_batch(self._amazon_send_refunds, seller, client) is False:
                runner.trigger()
        if not runner.triggered and self.sudo().search_count([("amazon_refund_state", "=", "sent")]):
            runner.trigger(wait=60)
        return True

    @api.model
    def _amazon_send_refunds(self, seller, client):
        from ..services.order_feeds import Adjustment, adjustment_feed
        self.env.flush_all()
        self.env.cr.execute("SELECT id FROM account_move WHERE amazon_refund_state = 'to_send' "
                            "ORDER BY id FOR UPDATE SKIP LOCKED")
        moves = self.sudo().browse([r[0] for r in self.env.cr.fetchall()]).filtered(
            lambda m: m._amazon_refund_order().amazon_seller_id == seller)
        adjustments, sent = [], self.browse()
        for move in moves:
            try:
                items = move._amazon_refund_components()
            except UserError as exc:
                move._amazon_refund_rejected(str(exc))
                continue
            order = move._amazon_refund_order()
            adjustments.append(Adjustment(move.id, order.amazon_order_ref, move.amazon_refund_reason,
                                          move.currency_id.name, list(items.items())))
            sent |= move
        if not sent:
            return True
        if not seller.merchant_id:
            sent.write({"amazon_refund_message": _(
                "Set the Merchant (Seller) ID of seller %s: Amazon's order feeds need it.", seller.name)})
            return True
        marketplaces = {m._amazon_refund_order().amazon_marketplace_id.amazon_marketplace_id for m in sent}
        try:
            feed_id = client.feeds().submit(FEED_PAYMENT_ADJUSTMENT, sorted(marketplaces),
                                            adjustment_feed(seller.merchant_id, adjustments),
                                            FEED_CONTENT_TYPE_XML)
        except amazon_errors.AmazonOutOfTime:
            return False
        except amazon_errors.AmazonError as exc:
            sent.write({"amazon_refund_message": str(exc)})     # stays queued: the next run retries
            return True
        sent.write({"amazon_refund_state": "sent", "amazon_refund_feed_ref": feed_id})
        return True

    @api.model
    def _amazon_check_refund_feed(self, client, feed_ref):
        from ..services.order_feeds import parse_processing_report
        self.env.flush_all()
        self.env.cr.execute("SELECT id FROM account_move WHERE amazon_refund_state = 'sent' AND "
                            "amazon_refund_feed_ref = %s FOR UPDATE SKIP LOCKED", (feed_ref,))
        moves = self.sudo().browse([r[0] for r in self.env.cr.fetchall()])
        if not moves:
            return True
        feeds = client.feeds()
        try:
            status = feeds.status(feed_ref)
            if status.state == "pending":
                return True
            report = (parse_processing_report(feeds.result(status.result_document_id))
                      if status.result_document_id else None)
        except amazon_errors.AmazonOutOfTime:
            return False
        if status.state != "done" or report is None:
            why = " ".join(report.general_errors) if report else ""
            for move in moves:
                move._amazon_refund_rejected(_("Amazon aborted feed %(feed)s (%(status)s)%(why)s: "
                                               "nothing was refunded.", feed=feed_ref,
                                               status=status.raw_status, why=": %s" % why if why else ""))
            return True
        for move in moves:
            problems = report.errors_of(move.id) or report.general_errors
            if problems:
                move._amazon_refund_rejected(" ".join(problems))
            else:
                move.write({"amazon_refund_state": "accepted", "amazon_refund_message": _(
                    "Refunded by Amazon (feed %s).", feed_ref)})
                move.message_post(body=_("Amazon accepted the refund (feed %s).", feed_ref))
        return True

    def _amazon_refund_rejected(self, message):
        self.ensure_one()
        self.write({"amazon_refund_state": "rejected", "amazon_refund_message": message})
        self.message_post(body=_("Amazon rejected the refund: %s", message))
