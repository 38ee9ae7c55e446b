from odoo import _, api, fields, models

RESULTS = [("pending", "Waiting"), ("created", "Created"), ("updated", "Updated: shipped"),
           ("existing", "Already in Odoo"), ("skipped", "Skipped"), ("failed", "Failed")]


class AmazonOrderQueue(models.Model):
    """Plain words on the order data queue: what happens next, and what was done."""

    _inherit = "amazon.order.queue"

    summary = fields.Char(compute="_compute_summary",
                          help="What the scheduler does next with this queue, or what it did.")

    # === COMPUTE METHODS ===
    @api.depends("state", "line_ids.state", "line_ids.outcome", "done_date")
    def _compute_summary(self):
        for queue in self:
            results = queue.line_ids.mapped("result")
            counts = {key: results.count(key) for key, _label in RESULTS}
            if queue.state == "new":
                queue.summary = _("%(n)s order(s) wait for the scheduler, which imports them within "
                                  "minutes: there is nothing to click.", n=len(results))
            elif queue.state == "in_progress":
                queue.summary = _("The scheduler is importing these orders: %(d)s of %(n)s handled so far.",
                                  d=len(results) - counts["pending"], n=len(results))
            else:
                text = _("%(c)s created, %(u)s updated (shipped on Amazon: delivery validated), "
                         "%(e)s already in Odoo, %(s)s skipped, %(f)s failed.",
                         c=counts["created"], u=counts["updated"], e=counts["existing"],
                         s=counts["skipped"], f=counts["failed"])
                if queue.state == "done":
                    queue.summary = _("Done: %s", text)
                else:
                    queue.summary = _("%(text)s The failed orders say why; the scheduler tries them "
                                      "again up to %(n)s times, so fix the cause (e.g. map the SKU) "
                                      "and wait.", text=text, n=queue.seller_id.max_line_attempts or 3)


    # === ACTION METHODS ===
    def _action_open_made(self, operation):
        """After Amazon > Operations queued orders: the queues it made."""
        count = sum(len(q.line_ids) for q in self)
        action = {"type": "ir.actions.act_window", "res_model": "amazon.order.queue",
                  "name": _("%(n)s Order(s) Queued", n=count), "target": "current",
                  "context": {"create": False}}
        if len(self) == 1:
            return dict(action, res_id=self.id, view_mode="form", views=[(False, "form")])
        return dict(action, view_mode="tree,form", views=[(False, "tree"), (False, "form")],
                    domain=[("id", "in", self.ids)])


class AmazonOrderQueueLine(models.Model):
    """Queue lines say whether they created, updated or skipped an order; the order's
    chatter says which queue imported it."""

    _inherit = "amazon.order.queue.line"

    outcome = fields.Selection([("created", "Created"), ("updated", "Updated: shipped"),
                                ("existing", "Already in Odoo")], readonly=True, copy=False,
                               help="What importing this order did in Odoo.")
    result = fields.Selection(RESULTS, compute="_compute_result",
                              help="Created: a new order. Updated: an order Odoo had, now shipped "
                                   "on Amazon, got its delivery validated. Skipped and Failed say "
                                   "why in the message.")

    # === COMPUTE METHODS ===
    @api.depends("state", "outcome")
    def _compute_result(self):
        for line in self:
            line.result = line.outcome if line.state == "done" and line.outcome else line.state

    # === CRUD METHODS ===
    def write(self, vals):
        if vals.get("state") != "done" or not vals.get("sale_order_id") or "outcome" in vals:
            return super().write(vals)
        order = self.env["sale.order"].browse(vals["sale_order_id"])
        for queue in self.queue_id:
            lines = self.filtered(lambda l, q=queue: l.queue_id == q)
            new = not order.amazon_source_ref
            outcome = "created" if new else ("updated" if queue.flow == "shipped" else "existing")
            super(AmazonOrderQueueLine, lines).write(dict(vals, outcome=outcome))
            if new:
                order._amazon_log_origin(queue)
            elif outcome == "updated":
                order._amazon_log_shipped(queue)
        return True
