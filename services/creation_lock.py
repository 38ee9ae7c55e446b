"""Two workers must not create the same new buyer, product or tax at the same instant.

Before the order builder creates buyers (by e-mail), products (by SKU),
taxes at a new Amazon rate (by name) or the company's "Tax collected by Amazon"
account (by XML id) it did not find, it takes a transaction-level advisory lock per key, so a second
worker about to create the same key waits until the first one's batch ends.
A key committed by another worker after this transaction's snapshot began is
invisible to it (Odoo runs in repeatable read): a check on a fresh
read-committed connection finds it, and the batch is retried on a new
snapshot (a serialization failure, which the queue cron rolls back and claims
again) instead of creating a twin.
"""
import hashlib

from psycopg2.errors import SerializationFailure

from odoo import sql_db


def _lock_id(kind, key):
    return int.from_bytes(hashlib.sha256(("%s|%s" % (kind, key)).encode()).digest()[:8], "big", signed=True)


def guard(env, kind, keys, committed_query, params=()):
    """Lock ``keys`` of ``kind`` until the transaction ends; raise
    ``SerializationFailure`` when another worker has committed one of them.
    ``committed_query`` selects the keys that exist, with ``%(keys)s`` the list."""
    keys = sorted(set(keys))
    if not keys:
        return
    for lock in sorted(_lock_id(kind, key) for key in keys):
        env.cr.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
    with sql_db.db_connect(env.cr.dbname).cursor() as cr:
        cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        cr.execute(committed_query, dict(params, keys=keys))
        found = [row[0] for row in cr.fetchall()]
    if found:
        raise SerializationFailure(
            "another worker created %s %s since this batch began; retrying on a fresh snapshot"
            % (kind, ", ".join(sorted(found))[:200]))


def guard_products(env, company, skus):
    guard(env, "product", skus, """
        SELECT pp.default_code FROM product_product pp
          JOIN product_template pt ON pt.id = pp.product_tmpl_id
         WHERE pp.default_code = ANY(%(keys)s)
           AND (pt.company_id IS NULL OR pt.company_id = %(company)s)""", {"company": company.id})


def guard_buyers(env, emails):
    guard(env, "buyer", emails, """
        SELECT email FROM res_partner WHERE email = ANY(%(keys)s) AND parent_id IS NULL""")


def guard_taxes(env, company, country, names):
    """Taxes are named per company and country (tax_resolver); Odoo checks the
    name's uniqueness in Python only, which two workers would both pass."""
    guard(env, "tax", ["%s|%s|%s" % (company.id, country.id or 0, name) for name in names], """
        SELECT company_id || '|' || COALESCE(country_id, 0) || '|' || (name->>'en_US')
          FROM account_tax
         WHERE company_id = %(company)s
           AND company_id || '|' || COALESCE(country_id, 0) || '|' || (name->>'en_US') = ANY(%(keys)s)""",
          {"company": company.id})


def guard_xmlids(env, module, names):
    """Records the connector creates once and finds again by XML id (the "Tax
    collected by Amazon" account): ir.model.data's unique index would fail the
    second worker's whole batch at the very end instead."""
    guard(env, "xmlid", ["%s.%s" % (module, name) for name in names], """
        SELECT module || '.' || name FROM ir_model_data
         WHERE module || '.' || name = ANY(%(keys)s)""")
