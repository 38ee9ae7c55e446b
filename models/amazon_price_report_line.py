from odoo import fields, models


class AmazonPriceReportLine(models.Model):
    """One Amazon order's prices in a price report (its All Orders rows added up).

    Stored while the report's document is read, so that pricing a batch of
    orders reads those orders' lines only, never the whole report."""

    _name = "amazon.price.report.line"
    _description = "Amazon Price Report Line (one order's prices)"
    _order = "id"

    price_report_id = fields.Many2one("amazon.price.report", required=True, ondelete="cascade", index=True)
    amazon_order_ref = fields.Char("Amazon Order ID", required=True, index=True)
    prices_json = fields.Text(
        required=True,
        help="The order's facts and priced items as the report gives them (compact JSON, "
             "report_parser.dump_order_prices).")
