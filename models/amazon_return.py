import logging
from decimal import Decimal

from odoo import Command, _, api, fields, models
from odoo.tools import float_compare

from ..services.runner import Runner

_logger = logging.getLogger(__name__)
RETURNS_CRON = "amazon_fbm_connector.ir_cron_amazon_import_returns"
CENT = Decimal("0.01")


class AmazonReturn(models.Model):
    """One Amazon return (RMA) of an FBM order: its items, Amazon's refund, and what it
    became in Odoo: an incoming return picking of the items to the marketplace's FBM
    warehouse and a credit note of Amazon's refund, each made once."""

    _name = "amazon.return"
    _description = "Amazon Return"
    _inherit = ["mail.thread"]
    _order = "return_date desc, id desc"
    _rec_name = "amazon_rma_ref"

    # === FIELDS ===
    seller_id = fields.Many2one("amazon.seller", required=True, index=True, ondelete="restrict",
                                readonly=True)
    company_id = fields.Many2one(related="seller_id.company_id", store=True, index=True)
    amazon_rma_ref = fields.Char("Amazon RMA ID", required=True, readonly=True, index=True,
                                 copy=False)
    merchant_rma_ref = fields.Char("Merchant RMA ID", readonly=True)
    amazon_order_ref = fields.Char("Amazon Order ID", required=True, readonly=True, index=True)
    sale_order_id = fields.Many2one("sale.order", string="Order", readonly=True,
                                    index="btree_not_null")
    marketplace_id = fields.Many2one(related="sale_order_id.amazon_marketplace_id", store=True)
    partner_id = fields.Many2one(related="sale_order_id.partner_id")
    order_date = fields.Datetime(readonly=True)
    return_date = fields.Datetime("Return Requested", readonly=True)
    delivery_date = fields.Datetime("Returned to You", readonly=True,
                                    help="When Amazon saw the parcel delivered back to you.")
    amazon_status = fields.Char("Amazon Status", readonly=True,
                                help="Amazon's return request status (Approved, Authorized ...).")
    resolution = fields.Char(readonly=True, help="Amazon's resolution, e.g. StandardRefund.")
    label_type = fields.Char(readonly=True)
    label_cost = fields.Monetary(readonly=True)
    label_paid_by = fields.Char("Label Paid By", readonly=True)
    carrier = fields.Char(readonly=True)
    tracking_ref = fields.Char("Tracking ID", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount_refunded = fields.Monetary("Refunded by Amazon", readonly=True,
                                      help="Amazon's Refunded Amount for this return; its "
                                           "credit note has this total.")
    refunded = fields.Boolean(readonly=True, help="Amazon's report states a refund.")
    line_ids = fields.One2many("amazon.return.line", "return_id", string="Items", readonly=True)
    picking_id = fields.Many2one("stock.picking", string="Return Picking", readonly=True,
                                 copy=False, index="btree_not_null",
                                 help="The incoming return of the items to the FBM warehouse.")
    picking_state = fields.Selection(related="picking_id.state", string="Picking Status")
    credit_note_id = fields.Many2one("account.move", string="Credit Note", readonly=True,
                                     copy=False, index="btree_not_null")
    stage = fields.Selection([("new", "To Process"), ("error", "To Check"), ("done", "Processed")],
                             default="new", required=True, readonly=True, index=True)
    state = fields.Selection([("new", "New"), ("to_check", "To Check"),
                              ("waiting", "Awaiting Parcel"), ("received", "Received"),
                              ("cancelled", "Cancelled")],
                             compute="_compute_state", store=True, index=True, tracking=True)
    message = fields.Text(readonly=True, help="Why this return needs a person, and what to do.")

    _sql_constraints = [
        ("rma_unique", "unique(seller_id, amazon_rma_ref)",
         "This Amazon return (RMA) was already imported for this seller."),
        ("picking_unique", "unique(picking_id)", "This picking is already the return of an RMA."),
        ("credit_note_unique", "unique(credit_note_id)",
         "This credit note is already the refund of an RMA."),
    ]

    # === COMPUTE METHODS ===
    @api.depends("stage", "picking_id.state")
    def _compute_state(self):
        for ret in self:
            if ret.stage == "error":
                ret.state = "to_check"
            elif ret.stage == "new":
                ret.state = "new"
            elif ret.picking_id.state == "done":
                ret.state = "received"
            elif ret.picking_id.state == "cancel":
                ret.state = "cancelled"
            else:
                ret.state = "waiting"

    # === ACTION METHODS ===
    def action_retry(self):
        """Check a return again at the cron's next run (after the order was imported, the
        SKU mapped or the delivery validated)."""
        self.filtered(lambda r: r.stage == "error").write({"stage": "new"})
        Runner(self.env).trigger(RETURNS_CRON)
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": _("Amazon returns"), "type": "info", "sticky": False,
                           "message": _("The return is checked again in the background in a "
                                        "moment.")}}

    def action_open_picking(self):
        self.ensure_one()
        return {"type": "ir.actions.act_window", "res_model": "stock.picking",
                "res_id": self.picking_id.id, "view_mode": "form"}

    def action_open_credit_note(self):
        self.ensure_one()
        return {"type": "ir.actions.act_window", "res_model": "account.move",
                "res_id": self.credit_note_id.id, "view_mode": "form"}

    # === BUSINESS METHODS ===
    @api.model
    def _cron_import_returns(self):
        """Per seller: request the returns report for the window since the last one (60
        days at most), poll it, store each new RMA once; then process the new returns,
        one per batch."""
        runner = Runner(self.env, cron=RETURNS_CRON)
        poll_later = False
        for seller in self.env["amazon.seller"]._returns_sellers():
            with runner.lock("amazon_returns", seller.id) as held:
                if not held:
                    continue
                for _step in range(6):   # request, poll, store ... and the next window
                    if runner.out_of_time():
                        runner.trigger()
                        return True
                    if not seller.returns_report_ref and not seller._returns_due():
                        break
                    result = runner.run_batch(seller._returns_step, deadline=runner.stop_at,
                                              on_error=seller._returns_failed)
                    if result in ("requested", "pending"):
                        poll_later = True
                        break
                    if result not in ("done", "cancelled"):
                        break
        for ret in self.search([("stage", "=", "new")], order="id"):
            if runner.out_of_time():
                runner.trigger()
                return True
            with runner.lock("amazon_return", ret.id) as held:
                if held:    # else another worker processes it
                    runner.run_batch(ret._process, on_error=ret._process_failed)
        if poll_later:
            runner.trigger(wait=self.env["amazon.seller"]._returns_poll_seconds())
        return True

    @api.model
    def _store_returns(self, seller, parsed):
        """Work unit part: the RMAs of a returns report (``returns_parser``) not known yet
        become returns to process; a known RMA is left as it is. Returns the new ones."""
        found = list(parsed.returns())
        known = set(self.with_context(active_test=False).search(
            [("seller_id", "=", seller.id),
             ("amazon_rma_ref", "in", [r.rma_id for r in found])]).mapped("amazon_rma_ref"))
        orders = {o.amazon_order_ref: o for o in self.env["sale.order"].search(
            [("amazon_seller_id", "=", seller.id),
             ("amazon_order_ref", "in", list({r.order_id for r in found}))])}
        currencies = {c.name: c for c in self.env["res.currency"].with_context(
            active_test=False).search([("name", "in", list({r.currency for r in found if r.currency}))])}
        values, seen = [], set()
        if known:
            self._update_known(seller, [r for r in found if r.rma_id in known])
        for ret in found:
            if ret.rma_id in known or ret.rma_id in seen:
                continue
            seen.add(ret.rma_id)
            order = orders.get(ret.order_id)
            currency = currencies.get(ret.currency) \
                or (order.currency_id if order else seller.company_id.currency_id)
            refunded = ret.refunded
            values.append({
                "seller_id": seller.id, "amazon_rma_ref": ret.rma_id,
                "merchant_rma_ref": ret.merchant_rma_id, "amazon_order_ref": ret.order_id,
                "sale_order_id": order.id if order else False,
                "order_date": ret.order_date, "return_date": ret.request_date,
                "delivery_date": ret.delivery_date, "amazon_status": ret.status,
                "resolution": ret.resolution, "label_type": ret.label_type,
                "label_cost": float(ret.label_cost or 0), "label_paid_by": ret.label_paid_by,
                "carrier": ret.carrier, "tracking_ref": ret.tracking,
                "currency_id": currency.id if currency else False,
                "amount_refunded": float(refunded or 0), "refunded": refunded is not None,
                "message": "\n".join(ret.errors) or False,
                "stage": "error" if ret.errors else "new",
                "line_ids": [Command.create({
                    "sku": item.sku, "asin": item.asin, "name": item.name,
                    "quantity": item.quantity, "reason": item.reason,
                    "amount_refunded": float(item.refunded or 0)}) for item in ret.items],
            })
        created = self.create(values) if values else self.browse()
        for ret in created.filtered(lambda r: r.stage == "error"):
            ret.message_post(body=ret.message)
        if parsed.errors:
            seller.sudo().message_post(subtype_xmlid="mail.mt_note", body=_(
                "Amazon's returns report has rows that could not be read: %s",
                " ".join(e.message for e in parsed.errors)))
        return created

    @api.model
    def _update_known(self, seller, found):
        """RMAs already imported, listed again: nothing is made twice. What Amazon added
        since is kept (status, tracking, the parcel's delivery), and a refund Amazon made
        since the return was imported is stated on it, its credit note made at the next
        processing."""
        by_rma = {r.amazon_rma_ref: r for r in self.search(
            [("seller_id", "=", seller.id), ("amazon_rma_ref", "in", [r.rma_id for r in found])])}
        for parsed in found:
            ret = by_rma[parsed.rma_id]
            values = {}
            for field, value in (("amazon_status", parsed.status), ("tracking_ref", parsed.tracking),
                                 ("carrier", parsed.carrier), ("resolution", parsed.resolution),
                                 ("delivery_date", parsed.delivery_date)):
                if value and ret[field] != value:
                    values[field] = value
            refunded = parsed.refunded
            if refunded is not None and not ret.refunded and not ret.credit_note_id:
                values.update({"refunded": True, "amount_refunded": float(refunded)})
                amounts = {}
                for item in parsed.items:
                    amounts[item.sku] = amounts.get(item.sku, 0) + float(item.refunded or 0)
                for line in ret.line_ids:
                    line.amount_refunded = amounts.pop(line.sku, 0.0)
                if ret.stage == "done":
                    values["stage"] = "new"
                ret.message_post(body=_("Amazon refunded %s for this return.", float(refunded)))
            if values:
                ret.write(values)

    def _process(self):
        """Work unit: check the return against its order; then the incoming return
        picking and the credit note of Amazon's refund, each made once."""
        self.ensure_one()
        if self.stage != "new":
            return False
        problems = self._check()
        if problems:
            self._set_error("\n".join(problems))
            return False
        notes = []
        if not self.picking_id:
            pickings = self._create_return_pickings()
            self.picking_id = pickings[:1]
            notes.append(_("Return picking %(pickings)s: the items come back to %(location)s.",
                           pickings=", ".join(pickings.mapped("name")),
                           location=pickings[:1].location_dest_id.display_name))
        if self.refunded and self.amount_refunded and not self.credit_note_id:
            self.credit_note_id = self._create_credit_note()
            notes.append(_("Credit note %(name)s of Amazon's refund %(amount)s (%(state)s).",
                           name=self.credit_note_id.name or _("draft"),
                           amount=self.amount_refunded, state=self.credit_note_id.state))
        self.write({"stage": "done", "message": False})
        if notes:
            self.message_post(body=" ".join(notes))
        return True

    def _process_failed(self, exc):
        """``Runner`` on_error: recorded on the return; Retry tries again."""
        self.ensure_one()
        self._set_error(_("Processing the return failed: %s", exc))

    def _set_error(self, message):
        self.write({"stage": "error", "message": message})
        self.message_post(body=message)

    def _sku_products(self):
        """{sku: product} of this return's SKUs (the seller's mappings, else internal
        references)."""
        skus = set(self.line_ids.mapped("sku"))
        mappings = self.env["amazon.product.mapping"].search(
            [("seller_id", "=", self.seller_id.id), ("sku", "in", list(skus))])
        products = {m.sku: m.product_id for m in mappings}
        missing = skus - set(products)
        if missing:
            for product in self.env["product.product"].with_context(active_test=False).search(
                    [("default_code", "in", list(missing)),
                     ("company_id", "in", [False, self.company_id.id])]):
                products.setdefault(product.default_code, product)
        return products

    def _check(self):
        """What keeps this return from being processed, as the seller reads it."""
        problems = []
        order = self.sale_order_id or self.env["sale.order"].search(
            [("amazon_seller_id", "=", self.seller_id.id),
             ("amazon_order_ref", "=", self.amazon_order_ref)], limit=1)
        if not order:
            return [_("Amazon order %s is not in Odoo: import the order, then Retry.",
                      self.amazon_order_ref)]
        self.sale_order_id = order
        if self.message and not self.line_ids:
            return [self.message]
        products = self._sku_products()
        lines = order.order_line.filtered(lambda l: not l.display_type and l.product_id)
        others = self.search([("sale_order_id", "=", order.id), ("id", "!=", self.id),
                              ("stage", "=", "done")])
        for line in self.line_ids:
            product = products.get(line.sku)
            if not product:
                problems.append(_("SKU %s is unknown: no product has this internal reference "
                                  "or Amazon SKU mapping. Map it, then Retry.", line.sku))
                continue
            sale_line = lines.filtered(lambda l, p=product: l.product_id == p)[:1]
            if not sale_line:
                problems.append(_("SKU %(sku)s (%(product)s) is not on order %(order)s.",
                                  sku=line.sku, product=product.display_name, order=order.name))
                continue
            line.write({"product_id": product.id, "sale_line_id": sale_line.id})
            delivered = sum(order.order_line.filtered(
                lambda l, p=product: l.product_id == p).mapped("qty_delivered"))
            pending = sum(others.filtered(lambda r: r.picking_id.state != "done").line_ids.filtered(
                lambda l, p=product: l.product_id == p).mapped("quantity"))
            asked = sum(self.line_ids.filtered(lambda l, s=line.sku: l.sku == s).mapped("quantity"))
            if not self.picking_id and asked > delivered - pending:
                problems.append(_(
                    "Units of SKU %(sku)s returned: %(qty)s, but delivered and not returned yet "
                    "on order %(order)s: %(left)s.", qty=asked, sku=line.sku,
                    left=max(delivered - pending, 0), order=order.name))
        if problems:
            return problems
        if not self._done_deliveries():
            return [_("Order %s has no validated delivery in Odoo: nothing can come back yet. "
                      "Validate the delivery, then Retry.", order.name)]
        if self.refunded and self.amount_refunded and not self.credit_note_id:
            credited = sum(others.credit_note_id.filtered(
                lambda m: m.state != "cancel").mapped("amount_total"))
            left = order.amount_total - credited
            currency = order.currency_id
            if currency.compare_amounts(self.amount_refunded, left) > 0:
                problems.append(_(
                    "Amazon refunded %(refund)s, more than order %(order)s has left to refund "
                    "(%(left)s of %(total)s): no credit note was made. Check the refund in "
                    "Seller Central.", refund=self.amount_refunded, order=order.name,
                    left=round(left, 2), total=order.amount_total))
        return problems

    def _done_deliveries(self):
        return self.sale_order_id.picking_ids.filtered(
            lambda p: p.state == "done" and p.picking_type_code == "outgoing"
            and not p.move_ids.origin_returned_move_id)

    def _create_return_pickings(self):
        """Odoo's return wizard on the order's done deliveries, with the returned
        quantities, into the marketplace's FBM warehouse."""
        wanted = {}
        for line in self.line_ids:
            wanted[line.product_id] = wanted.get(line.product_id, 0) + line.quantity
        warehouse = self.sale_order_id.amazon_marketplace_id.warehouse_id \
            or self.sale_order_id.warehouse_id
        pickings = self.env["stock.picking"]
        for delivery in self._done_deliveries().sorted("id"):
            if not any(wanted.values()):
                break
            wizard = self.env["stock.return.picking"].with_context(
                active_id=delivery.id, active_ids=delivery.ids, active_model="stock.picking").create(
                {"picking_id": delivery.id})
            if warehouse.lot_stock_id:
                wizard.location_id = warehouse.lot_stock_id
            any_qty = False
            for wline in wizard.product_return_moves:
                qty = min(wanted.get(wline.product_id, 0), wline.quantity)
                wline.write({"quantity": qty, "to_refund": True})
                wanted[wline.product_id] = wanted.get(wline.product_id, 0) - qty
                any_qty = any_qty or qty > 0
            if not any_qty:
                continue
            picking_id, _type = wizard._create_returns()
            picking = self.env["stock.picking"].browse(picking_id)
            picking.origin = _("Amazon return %(rma)s (%(order)s)", rma=self.amazon_rma_ref,
                               order=self.sale_order_id.name)
            if self.tracking_ref and "carrier_tracking_ref" in picking._fields:
                picking.carrier_tracking_ref = self.tracking_ref
            pickings |= picking
        return pickings

    def _create_credit_note(self):
        """A credit note of the returned items on the order, whose total is Amazon's
        refund (a partial refund is a partial credit note), posted when the seller's
        workflow posts invoices."""
        order = self.sale_order_id
        currency = order.currency_id
        values = order._prepare_invoice()
        values.update({"move_type": "out_refund",
                       "ref": _("Amazon return %s", self.amazon_rma_ref),
                       "invoice_line_ids": []})
        for line in self.line_ids:
            values["invoice_line_ids"].append(Command.create(
                line.sale_line_id._prepare_invoice_line(quantity=line.quantity)))
        move = self.env["account.move"].sudo().with_context(
            default_move_type="out_refund").create(values)
        target = self.amount_refunded
        lines = move.invoice_line_ids.filtered(lambda l: l.display_type == "product")
        if lines and move.amount_total and currency.compare_amounts(move.amount_total, target):
            ratio = target / move.amount_total
            for line in lines:
                line.price_unit = line.price_unit * ratio
            # the cents the taxes' rounding left: on the biggest line, then a last line
            for _attempt in range(3):
                diff = target - move.amount_total
                if not currency.compare_amounts(diff, 0):
                    break
                big = lines.sorted(lambda l: -l.price_total)[:1]
                factor = big.price_total / big.price_subtotal if big.price_subtotal else 1.0
                big.price_unit += diff / (big.quantity or 1) / factor
            diff = currency.round(target - move.amount_total)
            if float_compare(diff, 0, precision_rounding=currency.rounding):
                move.write({"invoice_line_ids": [Command.create({
                    "name": _("Amazon refund: rounding"), "quantity": 1, "price_unit": diff,
                    "tax_ids": [Command.clear()], "account_id": lines[:1].account_id.id})]})
        workflow = self.seller_id.workflow_id
        if workflow and workflow.validate_invoice:
            move.action_post()
            invoice_lines = order.invoice_ids.filtered(
                lambda m: m.move_type == "out_invoice" and m.state == "posted").line_ids.filtered(
                lambda l: l.account_id.account_type == "asset_receivable" and not l.reconciled)
            refund_lines = move.line_ids.filtered(
                lambda l: l.account_id.account_type == "asset_receivable")
            if invoice_lines and not refund_lines.reconciled:
                (refund_lines | invoice_lines).filtered(
                    lambda l: l.account_id == refund_lines[:1].account_id).reconcile()
        return move
