"""The loop's README pictures, taken by tools/screenshots_loop.sh on its own database:
a delivery Amazon accepted, one Amazon refused, and the failed confirmations list.

    python tools/screenshots_loop.py URL DB SENT_PICKING_ID FAILED_PICKING_ID OUT_DIR
"""
import os
import sys

from screenshots import Browser, Odoo  # tools/screenshots.py, beside this file


def main(url, db, sent_id, failed_id, out):
    odoo = Odoo(url, db, "admin", "admin")
    browser = Browser(url, odoo.session)
    try:
        form = "/web#id=%s&model=stock.picking&view_type=form"
        browser.shot(form % sent_id, os.path.join(out, "delivery_amazon_sent.png"), ".o_form_view")
        browser.shot(form % failed_id, os.path.join(out, "delivery_amazon_failed.png"), ".o_form_view")
        browser.shot("/web#action=amazon_fbm_connector.action_amazon_shipment_confirmations"
                     "&model=stock.picking&view_type=list",
                     os.path.join(out, "shipment_confirmations.png"), ".o_list_view")
    finally:
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:6])
