import json
import logging
from datetime import timedelta

from odoo import _, fields, models

from ..services import errors, pricing, report_parser
from ..services.const import REPORT_ALL_ORDERS, REPORT_ALL_ORDERS_BY_UPDATE

_logger = logging.getLogger(__name__)


class AmazonPriceReport(models.Model):
    """An All Orders report that prices every order of a window in a few calls.

    The unshipped report and Orders API headers carry no prices; one of these
    is shared by a report request or by all the queues of one import.
    """

    _name = "amazon.price.report"
    _description = "Amazon Price Report (All Orders)"
    _order = "id desc"

    seller_id = fields.Many2one("amazon.seller", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="seller_id.company_id", store=True)
    marketplace_codes = fields.Char(required=True, help="Comma-separated Amazon marketplace ids.")
    date_from = fields.Datetime()
    date_to = fields.Datetime()
    amazon_report_id = fields.Char(index=True)
    report_type = fields.Char(default=REPORT_ALL_ORDERS, required=True)
    state = fields.Selection([("requested", "Requested"), ("done", "Done"), ("failed", "Failed")],
                             default="requested", required=True, index=True)
    prices_json = fields.Text()
    message = fields.Text()

    def _request(self, seller, marketplace_codes, date_from, date_to, client=None, by_update=False):
        """Ask for the All Orders report of the orders created in the window, or
        (``by_update``) of the orders Amazon updated in it."""
        client = client or seller._get_client()
        report_type = REPORT_ALL_ORDERS_BY_UPDATE if by_update else REPORT_ALL_ORDERS
        report_id = client.reports().request(report_type, marketplace_codes, date_from, date_to)
        return self.create({"seller_id": seller.id, "marketplace_codes": ",".join(marketplace_codes),
                            "date_from": date_from, "date_to": date_to, "report_type": report_type,
                            "amazon_report_id": report_id})

    def _poll(self, client=None, timeout_hours=4):
        """One status check; downloads and parses once done. True when final."""
        self.ensure_one()
        if self.state != "requested":
            return True
        client = client or self.seller_id._get_client()
        reports = client.reports()
        try:
            status = reports.status(self.amazon_report_id, self.report_type)
            if status.state == "done":
                document = reports.fetch(status.document_id, self.report_type)
                prices, info, errs = report_parser.parse_all_orders(
                    reports.lines(document.raw, document.compression, document.charset))
                self.write({"state": "done", "prices_json": report_parser.dump_prices(prices, info),
                    "message": _("%(n)s priced items; %(e)s unreadable rows.", n=len(prices), e=len(errs))})
            elif status.state == "cancelled":
                self.write({"state": "done", "prices_json": json.dumps({"items": [], "orders": {}}),
                            "message": _("Amazon found no orders in the window.")})
            elif status.state == "fatal":
                self.write({"state": "failed", "message": _("Amazon could not build the price report; "
                                                            "prices come from getOrderItems.")})
            elif self.create_date < fields.Datetime.now() - timedelta(hours=timeout_hours):
                self.write({"state": "failed", "message": _("The price report did not finish in time.")})
        except errors.AmazonDocumentError as exc:
            self.write({"state": "failed", "message": str(exc)})
        return self.state != "requested"

    def _load(self):
        if self.state != "done" or not self.prices_json:
            return {}, {}
        return report_parser.prices_from_json(json.loads(self.prices_json))

    def _price_book(self, adapter=None):
        """The import pipeline's prices: this report's, then ``adapter``'s getOrderItems."""
        prices, info = self._load() if self else ({}, {})
        return pricing.PriceBook(prices, info, adapter)
