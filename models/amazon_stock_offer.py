import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..services import errors
from ..services import runner as runner_mod
from ..services.const import (
    FEED_CONTENT_TYPE_JSON,
    FEED_JSON_LISTINGS,
    STOCK_FEED_MAX_MESSAGES,
    STOCK_FEED_THRESHOLD,
)
from ..services.listings_adapter import ListingNotFound
from ..services.listings_feed import FeedMessage, quantity_feed
from ..services.stock_levels import sellable_quantities

_logger = logging.getLogger(__name__)

CRON = "amazon_fbm_connector.ir_cron_amazon_stock_export"
# patchListingsItem: offers claimed per unit (5/s: about two seconds of quota).
PATCH_BATCH = 10
# searchListingsItems reads 20 product types a call: offers per unit.
TYPES_BATCH = 200
# Quantities compared with what Amazon holds, per unit (no call to Amazon).
COMPARE_BATCH = 2000
# Transient failures (throttling, 5xx, no answer) of one SKU before it waits for the seller.
MAX_TRANSIENT_ATTEMPTS = 3
STATES = [("new", "Not Sent Yet"), ("pending", "Waiting for Amazon"), ("accepted", "On Amazon"),
          ("error", "Rejected by Amazon"), ("skipped", "Not Sent"), ("unlisted", "Not on Amazon")]
RETRY_HINT = ("Odoo sends this SKU again when its quantity changes, or when you press Resend.")


class AmazonStockOffer(models.Model):
    """One FBM offer: a SKU in a marketplace, and the quantity Amazon holds for it."""

    _name = "amazon.stock.offer"
    _description = "Amazon FBM Stock Offer"
    _order = "marketplace_id, sku"
    _rec_name = "sku"

    # === FIELDS ===
    marketplace_id = fields.Many2one("amazon.marketplace", required=True, ondelete="cascade",
                                     index=True, readonly=True)
    seller_id = fields.Many2one(related="marketplace_id.seller_id", store=True, index=True)
    company_id = fields.Many2one(related="marketplace_id.company_id", store=True)
    product_id = fields.Many2one("product.product", required=True, ondelete="cascade", index=True,
                                 readonly=True, context={"active_test": False})
    product_tmpl_id = fields.Many2one(related="product_id.product_tmpl_id", store=True, index=True)
    sku = fields.Char("Seller SKU", required=True, readonly=True,
                      help="The SKU of the offer on Amazon: the product's Internal Reference, "
                           "or its SKU mapping for the seller.")
    odoo_quantity = fields.Integer(
        "Odoo Quantity", readonly=True,
        help="What Odoo can sell of this product on this marketplace, when it was last "
             "computed: the free quantity in the marketplace's FBM warehouse (kits: complete "
             "kits) less the marketplace's Stock Reserve, never below 0.")
    amazon_quantity = fields.Integer(
        "Amazon Quantity", readonly=True,
        help="The last quantity Amazon accepted for this SKU.")
    amazon_date = fields.Datetime("Accepted On", readonly=True,
                                  help="When Amazon accepted that quantity.")
    sent_quantity = fields.Integer("Last Sent", readonly=True,
                                   help="The last quantity Odoo sent (accepted or not).")
    sent_date = fields.Datetime("Sent On", readonly=True)
    product_type = fields.Char(
        "Amazon Product Type", readonly=True,
        help="The listing's product type on Amazon (read once; Amazon requires it with "
             "every quantity).")
    state = fields.Selection(STATES, required=True, default="new", readonly=True, index=True)
    message = fields.Text("Amazon's Answer", readonly=True,
                          help="Why Amazon rejected the quantity, and what to do.")
    to_send = fields.Boolean("To Send", default=True, readonly=True, index=True,
                             help="Odoo's stock of the product changed since the last export: "
                                  "the next export compares and sends it.")
    force_send = fields.Boolean(readonly=True,
                                help="Send even if the quantity equals the last accepted one.")
    transient_attempts = fields.Integer(readonly=True)
    feed_id = fields.Many2one("amazon.stock.feed", readonly=True, index=True, ondelete="set null",
                              help="The feed that carries the last quantity sent.")
    feed_message_id = fields.Integer(readonly=True)
    differs = fields.Boolean("Differs from Odoo", compute="_compute_differs", store=True,
                             help="Amazon does not hold Odoo's quantity.")

    _sql_constraints = [("marketplace_sku_uniq", "unique(marketplace_id, sku)",
                         "A SKU has one offer per marketplace.")]

    # === COMPUTE METHODS ===
    @api.depends("odoo_quantity", "amazon_quantity", "amazon_date", "state")
    def _compute_differs(self):
        for offer in self:
            offer.differs = offer.state not in ("skipped", "unlisted") and (
                not offer.amazon_date or offer.odoo_quantity != offer.amazon_quantity)

    # === ACTION METHODS ===
    def action_resend(self):
        """Send these offers' quantities at the next export, even unchanged ones."""
        self.sudo().write({"to_send": True, "force_send": True, "transient_attempts": 0})
        self._trigger_export()
        if len(self) == 1:
            return self._notify(_("The offer will be sent to Amazon by the stock export in "
                                  "the background, within a minute."))
        return self._notify(_("%s offers will be sent to Amazon by the stock export in "
                              "the background, within a minute.", len(self)))

    # === BUSINESS METHODS ===
    @api.model
    def _trigger_export(self):
        runner_mod.Runner(self.env).trigger(CRON)

    @api.model
    def _notify(self, message, kind="info"):
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": _("Amazon"), "type": kind, "message": message}}

    @api.model
    def _export_marketplaces(self):
        return self.env["amazon.marketplace"].sudo().search([
            ("export_stock", "=", True), ("seller_id.active", "=", True),
            ("warehouse_id", "!=", False)])

    # --- which offers exist -------------------------------------------------
    @api.model
    def _skus_of(self, marketplace):
        """{sku: product} a marketplace offers: the seller's SKU mappings, and the
        Internal Reference of every other storable product or kit of its company."""
        seller = marketplace.seller_id
        Product = self.env["product.product"].sudo()
        skus = {}
        mapped = set()
        for mapping in self.env["amazon.product.mapping"].sudo().search(
                [("seller_id", "=", seller.id)], order="id"):
            skus.setdefault(mapping.sku.strip(), mapping.product_id)
            mapped.add(mapping.product_id.id)
        company = [("company_id", "in", (False, marketplace.company_id.id))]
        kit_templates = self.env["mrp.bom"].sudo().search(
            [("type", "=", "phantom"), ("active", "=", True)] + company).product_tmpl_id
        rows = Product.search_read(
            [("default_code", "!=", False), ("id", "not in", list(mapped)), "|",
             ("type", "=", "product"), ("product_tmpl_id", "in", kit_templates.ids)] + company,
            ["default_code"], order="id")
        for row in rows:
            skus.setdefault(row["default_code"].strip(), Product.browse(row["id"]))
        return skus

    @api.model
    def _sync_offers(self, marketplace):
        """Create the offers of SKUs the marketplace does not have yet (to send)."""
        existing = {r["sku"] for r in self.sudo().with_context(active_test=False).search_read(
            [("marketplace_id", "=", marketplace.id)], ["sku"])}
        vals = [{"marketplace_id": marketplace.id, "sku": sku, "product_id": product.id}
                for sku, product in self._skus_of(marketplace).items() if sku and sku not in existing]
        if vals:
            self.sudo().create(vals)
        return len(vals)

    # --- marks: stock changed -------------------------------------------------
    @api.model
    def _apply_marks(self, limit=5000):
        """Products whose stock changed (``amazon.stock.mark``) -> their offers, and
        those of the kits they are part of, are to send. Returns the marks consumed."""
        self.env.flush_all()
        # A claim inside the runner's batch (row locks, SKIP LOCKED): released by its commit.
        self.env.cr.execute("""
            SELECT id, product_id FROM amazon_stock_mark ORDER BY id LIMIT %s
            FOR UPDATE SKIP LOCKED""", (limit,))
        rows = self.env.cr.fetchall()
        if not rows:
            return 0
        products = self.env["product.product"].sudo().with_context(active_test=False).browse(
            {r[1] for r in rows})
        products |= self._kits_of(products)
        offer_ids = self.sudo().search([("product_id", "in", products.ids)]).ids
        locked = []
        if offer_ids:
            # A claim inside the runner's batch (row locks, SKIP LOCKED): released by its commit.
            self.env.cr.execute("""
                SELECT id FROM amazon_stock_offer WHERE id IN %s FOR UPDATE SKIP LOCKED""",
                                (tuple(offer_ids),))
            locked = [r[0] for r in self.env.cr.fetchall()]
            self.browse(locked).sudo().write({"to_send": True})
        if len(locked) == len(offer_ids):
            # Offers another worker is sending keep their marks for the next pass.
            self.env["amazon.stock.mark"].sudo().browse([r[0] for r in rows]).unlink()
        return len(rows)

    @api.model
    def _kits_of(self, products):
        """The kits (phantom BoMs, nested too) ``products`` are components of."""
        kits = self.env["product.product"]
        Line = self.env["mrp.bom.line"].sudo()
        todo = products
        for _depth in range(5):
            lines = Line.search([("product_id", "in", todo.ids), ("bom_id.type", "=", "phantom")])
            found = self.env["product.product"]
            for bom in lines.bom_id:
                found |= bom.product_id or bom.product_tmpl_id.with_context(
                    active_test=False).product_variant_ids
            found -= kits | products
            if not found:
                break
            kits |= found
            todo = found
        return kits

    # --- quantities -----------------------------------------------------------
    def _claim(self, marketplace, limit, after_id=0, typed=None):
        """Offers of the marketplace to send that no other worker holds (ids above
        ``after_id``; ``typed``: only those whose product type is known, or unknown)."""
        self.env.flush_all()
        # A claim inside the runner's batch (row locks, SKIP LOCKED): released by its commit.
        self.env.cr.execute("""
            SELECT id FROM amazon_stock_offer
             WHERE marketplace_id = %s AND to_send AND state != 'pending' AND id > %s
               AND (%s::boolean IS NULL OR (product_type IS NOT NULL) = %s::boolean)
          ORDER BY id LIMIT %s
        FOR UPDATE SKIP LOCKED""", (marketplace.id, after_id, typed, typed, limit))
        return self.sudo().browse([r[0] for r in self.env.cr.fetchall()])

    def _quantities(self, marketplace):
        """{offer: quantity to offer or None (not sent)} for these offers."""
        products = self.product_id.with_context(active_test=False)
        levels = sellable_quantities(self.env, products, marketplace.warehouse_id)
        reserve = max(0, marketplace.stock_reserve or 0)
        result = {}
        for offer in self:
            level = levels.get(offer.product_id.id)
            if not offer.product_id.active:
                result[offer] = 0   # archived: nothing to sell
            elif level is None:
                result[offer] = None
            else:
                result[offer] = max(0, level - reserve)
        return result

    def _changes(self, marketplace):
        """Compute each offer's quantity; returns {offer: quantity} of those to send,
        and takes the others off the list (unchanged, or rejected at that quantity)."""
        changes = {}
        quiet = self.browse()
        skipped = self.browse()
        for offer, qty in self._quantities(marketplace).items():
            if qty is None:
                skipped |= offer
                continue
            if offer.odoo_quantity != qty:
                offer.odoo_quantity = qty
            unchanged = (offer.state == "accepted" and offer.amazon_quantity == qty) or (
                offer.state == "error" and offer.sent_date and offer.sent_quantity == qty)
            if unchanged and not offer.force_send:
                quiet |= offer
            else:
                changes[offer] = qty
        quiet.write({"to_send": False})
        skipped.write({"to_send": False, "force_send": False, "state": "skipped", "message": _(
            "Consumables and services have no stock in Odoo: their quantity is not sent.")})
        return changes

    @api.model
    def _compare_batch(self, marketplace, after_id=0):
        """Take unchanged offers off the list (no call to Amazon); returns the last id
        seen (0: done), so that a marketplace's big list is compared unit by unit."""
        offers = self._claim(marketplace, COMPARE_BATCH, after_id=after_id)
        if not offers:
            return 0
        offers._changes(marketplace)
        return max(offers.ids)

    # --- sending: patches -----------------------------------------------------
    @api.model
    def _send_patches(self, marketplace, client):
        """One unit: up to PATCH_BATCH offers, one patchListingsItem each. Returns
        the number of offers claimed (0: none left), or None to stop the pass."""
        offers = self._claim(marketplace, PATCH_BATCH)
        if not offers:
            return 0
        listings = client.listings(marketplace.seller_id.merchant_id)
        code = marketplace.amazon_marketplace_id
        for offer, qty in offers._changes(marketplace).items():
            try:
                if not offer.product_type:
                    offer.product_type = listings.product_type(offer.sku, code)
                answer = listings.set_quantity(offer.sku, code, offer.product_type, qty)
            except ListingNotFound:
                offer._listing_missing(qty)
                continue
            except errors.AmazonOutOfTime:
                return None
            except (errors.AmazonThrottled, errors.AmazonServerError, errors.AmazonUnreachable) as exc:
                offer._transient_failure(exc, qty)
                return None   # Amazon is busy or away: the next pass goes on
            except errors.AmazonRequestError as exc:
                offer._rejected(qty, [str(exc)])
                continue
            if answer.accepted:
                offer._accepted(qty)
            else:
                offer._rejected(qty, [str(i) for i in answer.errors or answer.issues] or [
                    _("Amazon answered %s without saying why.", answer.status)])
        return len(offers)

    # --- sending: feeds -------------------------------------------------------
    @api.model
    def _resolve_types(self, marketplace, client):
        """One unit: read the product types of up to TYPES_BATCH offers to send,
        20 a call. Returns the number of offers looked up (0: none left)."""
        offers = self._claim(marketplace, TYPES_BATCH, typed=False)
        if not offers:
            return 0
        listings = client.listings(marketplace.seller_id.merchant_id)
        try:
            types = listings.product_types(offers.mapped("sku"), marketplace.amazon_marketplace_id)
        except errors.AmazonOutOfTime:
            return None
        for offer in offers:
            if offer.sku in types:
                offer.product_type = types[offer.sku]
        offers.filtered(lambda o: o.sku not in types)._listing_missing()
        return len(offers)

    @api.model
    def _send_feed(self, marketplace, client):
        """One unit: one JSON_LISTINGS_FEED of up to STOCK_FEED_MAX_MESSAGES offers.
        Returns the number of offers sent (0: none left), or None to stop."""
        offers = self._claim(marketplace, STOCK_FEED_MAX_MESSAGES, typed=True)
        if not offers:
            return 0
        changes = offers._changes(marketplace)
        if not changes:
            return len(offers)
        messages = [FeedMessage(n, offer.sku, offer.product_type, qty)
                    for n, (offer, qty) in enumerate(changes.items(), start=1)]
        body = quantity_feed(marketplace.seller_id.merchant_id, messages)
        try:
            feed_ref = client.feeds().submit(FEED_JSON_LISTINGS, [marketplace.amazon_marketplace_id],
                                             body, FEED_CONTENT_TYPE_JSON)
        except errors.AmazonOutOfTime:
            return None
        feed = self.env["amazon.stock.feed"].sudo().create({
            "marketplace_id": marketplace.id, "amazon_feed_id": feed_ref,
            "message_count": len(messages)})
        now = fields.Datetime.now()
        for message, (offer, qty) in zip(messages, changes.items()):
            offer.write({"state": "pending", "feed_id": feed.id, "feed_message_id": message.message_id,
                         "sent_quantity": qty, "sent_date": now, "to_send": False,
                         "force_send": False, "transient_attempts": 0})
        return len(offers)

    # --- outcomes -------------------------------------------------------------
    def _accepted(self, qty):
        now = fields.Datetime.now()
        self.write({"state": "accepted", "amazon_quantity": qty, "amazon_date": now,
                    "sent_quantity": qty, "sent_date": now, "message": False, "to_send": False,
                    "force_send": False, "transient_attempts": 0})

    def _rejected(self, qty, issues):
        self.write({
            "state": "error", "sent_quantity": qty, "sent_date": fields.Datetime.now(),
            "to_send": False, "force_send": False, "transient_attempts": 0,
            "product_type": False,   # read again: the listing may have changed type
            "message": _("Amazon rejected the quantity %(qty)s of SKU %(sku)s: %(issues)s "
                         "Fix the listing in Seller Central (or the product in Odoo). %(hint)s",
                         qty=qty, sku=self.sku, issues=" ".join(issues), hint=RETRY_HINT)})

    def _unknown_sku(self, qty):
        self.write({
            "state": "error", "sent_quantity": qty, "sent_date": fields.Datetime.now(),
            "to_send": False, "force_send": False, "transient_attempts": 0, "product_type": False,
            "message": _("Amazon has no listing for SKU %(sku)s on %(marketplace)s. Create the "
                         "offer in Seller Central, or map the product to the SKU Amazon knows "
                         "(seller > SKU Mappings). %(hint)s", sku=self.sku,
                         marketplace=self.marketplace_id.name, hint=RETRY_HINT)})

    def _listing_missing(self, qty=None):
        """Amazon lists none of these SKUs. A SKU the seller mapped is meant to be on
        Amazon: an error. An Internal Reference Amazon does not list is a product not
        sold there (yet): no error, no quantity sent."""
        mapped = set(self.env["amazon.product.mapping"].sudo().search([
            ("seller_id", "in", self.seller_id.ids), ("sku", "in", self.mapped("sku"))]).mapped("sku"))
        for offer in self:
            if offer.sku in mapped:
                offer._unknown_sku(offer.odoo_quantity if qty is None else qty)
            else:
                offer._not_listed()

    def _not_listed(self):
        self.write({
            "state": "unlisted", "to_send": False, "force_send": False, "transient_attempts": 0,
            "product_type": False,
            "message": _("Amazon has no listing for SKU %(sku)s on %(marketplace)s, so Odoo sends "
                         "no quantity for it. If you sell it there, create the offer in Seller "
                         "Central (or map the product to the SKU Amazon knows: seller > SKU "
                         "Mappings). %(hint)s", sku=self.sku,
                         marketplace=self.marketplace_id.name, hint=RETRY_HINT)})

    def _transient_failure(self, exc, qty):
        attempts = self.transient_attempts + 1
        vals = {"transient_attempts": attempts}
        if attempts >= MAX_TRANSIENT_ATTEMPTS:
            vals.update(state="error", to_send=False, force_send=False, sent_quantity=qty,
                        sent_date=fields.Datetime.now(), message=_(
                "%(error)s Odoo tried %(n)s times and stopped. %(hint)s",
                error=str(exc), n=attempts, hint=RETRY_HINT))
        else:
            vals["message"] = _("%(error)s Odoo tries again at the next export.", error=str(exc))
        self.write(vals)

    # --- the cron -------------------------------------------------------------
    @api.model
    def _cron_export_stock(self):
        """Send Amazon the FBM quantities that changed (Amazon > FBM > Stock on Amazon)."""
        runner = runner_mod.Runner(self.env, cron=CRON)
        while not runner.out_of_time():
            if not _run(runner, self._apply_marks):
                break
        for marketplace in self._export_marketplaces():
            _run(runner, self._sync_offers, marketplace)
        self.env["amazon.stock.feed"]._check_feeds(runner)
        for marketplace in self._export_marketplaces():
            if runner.out_of_time():
                runner.trigger()
                break
            self._export_marketplace(runner, marketplace)
        return True

    @api.model
    def _export_marketplace(self, runner, marketplace):
        failures = []

        def failed(exc):
            failures.append(exc)
            marketplace.sudo().write({"stock_export_message": str(exc),
                                      "stock_export_date": fields.Datetime.now()})
        try:
            client = runner.client(marketplace.seller_id)
        except UserError as exc:
            failed(exc)
            return
        after = -1
        while after and not runner.out_of_time():
            after = _run(runner, self._compare_batch, marketplace, max(after, 0))
        pending = self.sudo().search_count([("marketplace_id", "=", marketplace.id),
                                            ("to_send", "=", True), ("state", "!=", "pending")])
        units = ((self._resolve_types, self._send_feed) if pending > STOCK_FEED_THRESHOLD
                 else (self._send_patches,))
        for unit in units:
            while True:
                if runner.out_of_time():
                    runner.trigger()
                    return
                done = _run(runner, unit, marketplace, client, on_error=failed)
                if failures:
                    return   # recorded on the marketplace; the next run tries again
                if done is None:
                    # Out of time or quota, or Amazon busy: the next pass goes on in a minute.
                    runner.trigger(wait=60)
                    return
                if not done:
                    break
        if marketplace.stock_export_message:
            marketplace.sudo().write({"stock_export_message": False,
                                      "stock_export_date": fields.Datetime.now()})


def _run(runner, fn, *args, on_error=None):
    """``runner.run_batch``: ``fn``'s result (None when ``on_error`` recorded a failure)."""
    return runner.run_batch(fn, *args, on_error=on_error)
