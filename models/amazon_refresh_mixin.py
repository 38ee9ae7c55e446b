from collections import defaultdict

from odoo import api, models

REFRESH_CHANNEL = "amazon_fbm_refresh"
REFRESH_TYPE = "amazon_fbm_connector/refresh"
_PENDING = "amazon_fbm_connector.refresh"


def _company_id(record):
    company = record["company_id"] if "company_id" in record._fields else False
    return company.id if company else False


class AmazonRefreshMixin(models.AbstractModel):
    """Open screens follow the server: when a record of a model inheriting this mixin
    is created or written (by a cron, a button, another user), the browsers showing
    it reload their form or list (static/src/js/amazon_refresh.js).

    The changed ids are gathered during the transaction and sent as one bus message
    per model and company when it commits (a precommit hook writes the ``bus.bus``
    rows; Odoo's bus notifies the browsers once the commit is done): one message per
    batch the runner commits, not one per record. The message goes to the company's
    channel (``ir.websocket`` subscribes Amazon users to the channels of their
    companies) and says only which records changed, never what they hold."""

    _name = "amazon.refresh.mixin"
    _description = "Amazon: open screens reload on server changes"

    # === CRUD METHODS ===
    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        records._amazon_refresh_later()
        return records

    def _write(self, vals):
        # Every stored change ends here, computed fields' recomputations included.
        res = super()._write(vals)
        self._amazon_refresh_later()
        return res

    # === BUSINESS METHODS ===
    def _amazon_refresh_targets(self):
        """The records whose screens show ``self``: {model name: records}. A model
        shown inside another one's form (lines) answers with its parent."""
        return {self._name: self}

    def _amazon_refresh_later(self):
        """Remember the changed ids; the bus message is sent when the transaction commits.
        Nothing is read here: this runs while Odoo flushes."""
        if not self or self.env.context.get("amazon_no_refresh"):
            return
        cr = self.env.cr
        pending = cr.precommit.data.get(_PENDING)
        if pending is None:
            pending = cr.precommit.data[_PENDING] = defaultdict(set)
            env = self.env

            @cr.precommit.add
            def send():
                env["amazon.refresh.mixin"]._amazon_refresh_send(cr.precommit.data.pop(_PENDING, {}))
        pending[self._name].update(self._ids)

    @api.model
    def _amazon_refresh_send(self, pending):
        """One bus message per (model, company): ``{"model": ..., "ids": [...]}``."""
        targets = defaultdict(set)
        for model, ids in pending.items():
            records = self.env[model].sudo().browse(ids).exists()
            if not records:
                continue
            for target_model, target in records._amazon_refresh_targets().items():
                for record in target:
                    targets[(target_model, _company_id(record))].add(record.id)
        if not targets:
            return
        companies = self.env["res.company"].sudo()
        notifications = []
        for (model, company_id), ids in sorted(targets.items(), key=lambda item: (item[0][0], item[0][1] or 0)):
            company = companies.browse(company_id) if company_id else self.env.company
            notifications.append(((company, REFRESH_CHANNEL), REFRESH_TYPE,
                                  {"model": model, "ids": sorted(ids)}))
        self.env["bus.bus"].sudo()._sendmany(notifications)
