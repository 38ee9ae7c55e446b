from odoo import fields, models, sql_db

from ..services.rate_limit import PostgresBucketStore


class AmazonRateBucket(models.Model):
    """The SP-API token buckets every Odoo worker and server shares.

    Amazon counts a seller's calls per application, not per Odoo process: the
    client reserves each call's token here (``services.rate_limit``) on a
    connection of its own, so the reservation holds whatever becomes of the
    caller's transaction. Rows are written only by that SQL (a row lock per
    bucket); the ORM model creates the table and lets managers look at it.
    """

    _name = "amazon.rate.bucket"
    _description = "Amazon SP-API Rate Bucket"
    _log_access = False
    _order = "name"

    name = fields.Char(required=True, readonly=True,
                       help="Quota key (hash of endpoint, app and seller) and operation.")
    rate = fields.Float(required=True, readonly=True,
                        help="Requests per second Amazon grants (x-amzn-RateLimit-Limit).")
    burst = fields.Float(required=True, readonly=True)
    tokens = fields.Float(required=True, readonly=True)
    stamp = fields.Float(required=True, readonly=True,
                         help="Database time (epoch seconds) of the last refill.")

    _sql_constraints = [("name_uniq", "UNIQUE(name)", "One bucket per quota key and operation.")]

    def _store(self):
        """A bucket store on this database, through connections of its own."""
        dbname = self.env.cr.dbname
        return PostgresBucketStore(lambda: sql_db.db_connect(dbname).cursor(), name=dbname)
