from odoo import fields, models


class AmazonReportRequestLine(models.Model):
    _name = "amazon.report.request.line"
    _inherit = ["amazon.refresh.mixin"]
    _description = "Amazon Sale Order Report: one order"
    _order = "id"

    # === FIELDS ===
    request_id = fields.Many2one("amazon.report.request", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="request_id.company_id", store=True)
    amazon_order_ref = fields.Char("Amazon Order ID", required=True)
    state = fields.Selection([("created", "Created"), ("existing", "Already Present"),
                              ("skipped", "Skipped"), ("failed", "Failed")], required=True)
    message = fields.Text()
    sale_order_id = fields.Many2one("sale.order", ondelete="set null")

    # === BUSINESS METHODS ===
    def _amazon_refresh_targets(self):
        return {"amazon.report.request": self.request_id}
