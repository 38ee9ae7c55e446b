import logging

from odoo import _, fields, models

from ..services import errors, pricing, report_parser
from ..services.const import REPORT_ALL_ORDERS, REPORT_ALL_ORDERS_BY_UPDATE

_logger = logging.getLogger(__name__)

STORE_BATCH = 1000      # orders stored per create while the document is read
MAX_REQUESTS = 3        # a report whose document stays damaged is requested this many times


class AmazonPriceReport(models.Model):
    """An All Orders report that prices every order of a window in a few calls.

    The unshipped report and Orders API headers carry no prices; one of these
    is shared by a report request or by all the queues of one import.
    """

    _name = "amazon.price.report"
    _inherit = ["amazon.report.mixin"]
    _description = "Amazon Price Report (All Orders)"
    _order = "id desc"

    # === FIELDS ===
    marketplace_codes = fields.Char(required=True, help="Comma-separated Amazon marketplace ids.")
    date_from = fields.Datetime()
    date_to = fields.Datetime()
    report_type = fields.Char(default=REPORT_ALL_ORDERS, required=True)
    state = fields.Selection([("requested", "Requested"), ("done", "Done"), ("failed", "Failed")],
                             default="requested", required=True, index=True)
    message = fields.Text()
    request_count = fields.Integer(
        "Requests", default=1, readonly=True,
        help="How many times this report was requested: a report whose document stays damaged "
             "(fresh download URLs included) is requested again, and the orders it prices wait.")

    # === BUSINESS METHODS ===
    def _request(self, seller, marketplace_codes, date_from, date_to, client=None, by_update=False):
        """Ask for the All Orders report of the orders created in the window, or
        (``by_update``) of the orders Amazon updated in it."""
        client = client or seller._get_client()
        report_type = REPORT_ALL_ORDERS_BY_UPDATE if by_update else REPORT_ALL_ORDERS
        report_id = client.reports().request(report_type, marketplace_codes, date_from, date_to)
        return self.create({"seller_id": seller.id, "marketplace_codes": ",".join(marketplace_codes),
                            "date_from": date_from, "date_to": date_to, "report_type": report_type,
                            "amazon_report_id": report_id})

    def _poll(self, client=None):
        """One status check; downloads and parses once done. True when final."""
        self.ensure_one()
        if self.state != "requested":
            return True
        client = client or self.seller_id._get_client()
        reports = client.reports()
        try:
            status = self._report_status(reports)
            if status.state == "done":
                document = reports.fetch(status.document_id, self.report_type)
                priced, unreadable = self._store_prices(
                    reports.lines(document.raw, document.compression, document.charset))
                self.write({"state": "done", "message": _(
                    "%(n)s priced items; %(e)s unreadable rows.", n=priced, e=unreadable)})
            elif status.state == "cancelled":
                self.write({"state": "done", "message": _("Amazon found no orders in the window.")})
            elif status.state == "fatal":
                self.write({"state": "failed", "message": _("Amazon could not build the price report; "
                                                            "prices come from getOrderItems.")})
            elif self._report_timed_out():
                self.write({"state": "failed", "message": _("The price report did not finish in time.")})
        except errors.AmazonDocumentError as exc:
            self._drop_orders()     # what was stored of a document that could not be read to its end
            self._request_again(reports, exc)
        return self.state != "requested"

    def _request_again(self, reports, exc):
        """The document could not be read, from fresh URLs too: request the report
        again. It stays ``requested``, so the queues it prices wait (their orders are
        not priced one getOrderItems call each) and the scheduler polls the new
        report. After ``MAX_REQUESTS`` damaged documents it fails."""
        self.ensure_one()
        if self.request_count >= MAX_REQUESTS:
            self.write({"state": "failed", "message": _(
                "%(error)s Amazon's document was damaged for each of the %(n)s requests of this "
                "report; the orders it was to price are priced by getOrderItems instead.",
                error=str(exc), n=self.request_count)})
            return
        codes = [code for code in (self.marketplace_codes or "").split(",") if code]
        try:
            report_id = reports.request(self.report_type, codes, self.date_from, self.date_to)
        except errors.AmazonError as again:
            # The damaged report stays the one to poll: the next poll tries again.
            self.message = _("%(error)s Requesting the report again failed (%(again)s); the next "
                             "check tries again. The orders it prices wait for it.",
                             error=str(exc), again=str(again))
            return
        self.write({"amazon_report_id": report_id, "request_count": self.request_count + 1,
                    "requested_at": fields.Datetime.now(),
                    "message": _(
                        "%(error)s The report was requested again (request %(n)s of %(max)s): the "
                        "orders it prices wait for it and are imported once it is read.",
                        error=str(exc), n=self.request_count + 1, max=MAX_REQUESTS)})

    def _store_prices(self, lines):
        """Read the All Orders document (``lines``, streamed) into this report's
        lines, one per order, ``STORE_BATCH`` orders per create: the report is
        never held whole. Returns (priced items, unreadable rows)."""
        self.ensure_one()
        Line = self.env["amazon.price.report.line"]
        reader = report_parser.read_all_orders(lines)
        vals, seen, split, priced = [], set(), set(), 0
        for order_id, info, items in reader:
            if order_id in seen:      # rows of the order apart in the document
                split.add(order_id)
            seen.add(order_id)
            priced += len(items)
            vals.append({"price_report_id": self.id, "amazon_order_ref": order_id,
                         "prices_json": report_parser.dump_order_prices(info, items)})
            if len(vals) >= STORE_BATCH:
                Line.create(vals).invalidate_recordset()
                vals = []
        if vals:
            Line.create(vals).invalidate_recordset()
        priced -= self._merge_split_orders(split - reader.bad)
        priced -= self._drop_orders(reader.bad & seen)
        return priced, len(reader.errors)

    def _merge_split_orders(self, refs):
        """One line per order: the lines of an order whose rows were apart in the
        document are added up into its first. Returns how many items that merged."""
        if not refs:
            return 0
        lines = self.env["amazon.price.report.line"].search(
            [("price_report_id", "=", self.id), ("amazon_order_ref", "in", list(refs))], order="id")
        merged, first, extra = 0, {}, self.env["amazon.price.report.line"]
        for line in lines:
            info, items = report_parser.order_prices_from_json(line.prices_json)
            if line.amazon_order_ref not in first:
                first[line.amazon_order_ref] = (line, info, items)
                continue
            _line, _info, kept = first[line.amazon_order_ref]
            before = len(kept) + len(items)
            report_parser.merge_prices(kept, items)
            merged += before - len(kept)
            first[line.amazon_order_ref] = (_line, info, kept)   # the later rows' order facts
            extra |= line
        for line, info, items in first.values():
            line.prices_json = report_parser.dump_order_prices(info, items)
        extra.sudo().unlink()
        return merged

    def _drop_orders(self, refs=None):
        """Remove the lines of orders ``refs`` (all this report's lines when None):
        orders with an unreadable row are priced by no row of the report. Returns
        how many items they held."""
        domain = [("price_report_id", "in", self.ids)]
        if refs is not None:
            if not refs:
                return 0
            domain.append(("amazon_order_ref", "in", list(refs)))
        lines = self.env["amazon.price.report.line"].sudo().search(domain)
        items = 0 if refs is None else sum(
            len(report_parser.order_prices_from_json(text)[1]) for text in lines.mapped("prices_json"))
        lines.unlink()
        return items

    def _prices_of(self, order_ids):
        """This report's prices of ``order_ids`` only (one search): ``(prices by
        (order, sku), order facts by order)``, as ``pricing.PriceBook`` holds them."""
        lines = self.env["amazon.price.report.line"].search_fetch(
            [("price_report_id", "=", self.id), ("amazon_order_ref", "in", list(order_ids))],
            ["amazon_order_ref", "prices_json"], order="id")
        prices, info, amounts = {}, {}, {}
        for line in lines:
            ref = line.amazon_order_ref
            info[ref], items = report_parser.order_prices_from_json(line.prices_json, amounts)
            for sku, item in items.items():
                prices[(ref, sku)] = item
        lines.invalidate_recordset()
        return prices, info

    def _price_book(self, adapter=None):
        """The import pipeline's prices: this report's (read batch by batch, see
        ``pricing.PriceBook.load``), then ``adapter``'s getOrderItems."""
        if self and self.state == "done":
            return pricing.PriceBook(adapter=adapter, loader=self._prices_of)
        return pricing.PriceBook(adapter=adapter)
