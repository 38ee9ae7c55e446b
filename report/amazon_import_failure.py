from odoo import _, fields, models


class AmazonImportFailure(models.Model):
    """Every order that a Sale Order Report or an order data queue failed to import,
    in one list: what the seller has to look at, and the failures per report/queue."""

    _name = "amazon.import.failure"
    _description = "Amazon Import Failure"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "amazon_order_ref"

    seller_id = fields.Many2one("amazon.seller", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    marketplace_id = fields.Many2one("amazon.marketplace", readonly=True)
    source = fields.Selection([("report", "Sale Order Report"), ("queue", "Order Data Queue")],
                              readonly=True)
    source_name = fields.Char("Report / Queue", readonly=True)
    request_id = fields.Many2one("amazon.report.request", "Sale Order Report", readonly=True)
    queue_id = fields.Many2one("amazon.order.queue", "Order Data Queue", readonly=True)
    amazon_order_ref = fields.Char("Amazon Order ID", readonly=True)
    message = fields.Text("Why", readonly=True)
    date = fields.Datetime(readonly=True)
    attempts = fields.Integer(readonly=True)

    @property
    def _table_query(self):
        # ids: report lines even, queue lines odd, so both kinds share one id space
        return """
            SELECT l.id * 2 AS id, r.seller_id, r.company_id, NULL::integer AS marketplace_id,
                   'report' AS source, r.name AS source_name, r.id AS request_id,
                   NULL::integer AS queue_id, l.amazon_order_ref, l.message,
                   l.create_date AS date, 1 AS attempts
              FROM amazon_report_request_line l
              JOIN amazon_report_request r ON r.id = l.request_id
             WHERE l.state = 'failed'
            UNION ALL
            SELECT l.id * 2 + 1, q.seller_id, q.company_id, q.marketplace_id,
                   'queue', q.name, NULL, q.id, l.amazon_order_ref, l.message,
                   COALESCE(l.write_date, l.create_date), l.attempts
              FROM amazon_order_queue_line l
              JOIN amazon_order_queue q ON q.id = l.queue_id
             WHERE l.state = 'failed'
        """

    # === ACTION METHODS ===
    def action_open_source(self):
        self.ensure_one()
        record = self.request_id or self.queue_id
        return {"type": "ir.actions.act_window", "res_model": record._name, "res_id": record.id,
                "view_mode": "form", "name": record.display_name}

    def action_open(self, sellers):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "amazon_fbm_connector.action_amazon_import_failure")
        action["domain"] = [("seller_id", "in", sellers.ids)]
        action["name"] = _("Failed Items")
        return action
