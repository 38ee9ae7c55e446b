"""Which Odoo tax carries the tax Amazon charged, and on which account.

For every line of an order (item, shipping, gift wrap, promotion) the rate
Amazon applied is read back from its amounts (``tax_rates``), then:

* marketplace-facilitator marketplaces (US, CA, AU ...) with "Tax collected
  and remitted by Amazon": a tax at Amazon's rate on the marketplace's
  clearing account (default: "Tax collected by Amazon", one per company among
  current liabilities). The company's own output tax is not charged.
* elsewhere: the product's taxes mapped by the marketplace's fiscal position
  when their rate is Amazon's (a price-included twin where the marketplace's
  prices include tax); else a company tax at Amazon's rate on the same tax
  accounts, found or created once per rate, company and account set. The
  order's tax note says which tax was chosen and why.

The taxes of the company and the clearing accounts are read once per batch;
taxes created for one order are reused by the next.
"""
from decimal import Decimal

from odoo import Command, _

from . import creation_lock
from .tax_rates import plan_order

XMLID_MODULE = "amazon_fbm_connector"
CLEARING_XMLID = "tax_collected_by_amazon_%s"


def _fmt_rate(rate):
    return format(Decimal(rate).normalize(), "f")


def _tax_accounts(tax):
    def accounts(lines):
        return tuple(sorted(lines.filtered(lambda l: l.repartition_type == "tax").account_id.ids))
    return accounts(tax.invoice_repartition_line_ids), accounts(tax.refund_repartition_line_ids)


class TaxResolver:
    """Taxes for one company's Amazon orders; one instance per builder."""

    def __init__(self, env, company):
        self.env = env
        self.company = company
        self.taxes = {}          # key -> account.tax
        self.names = set()
        self.clearing = {}       # marketplace id -> account.account
        self._default_clearing = None
        self._groups = None
        self._rate_taxes = {}      # (rate, included, accounts, country, collected) -> account.tax
        self._collected_notes = {}

    # ============================================================ prefetch
    def prefetch(self, marketplaces):
        """Read the company's sale taxes (with their accounts) once per batch."""
        Tax = self.env["account.tax"]
        taxes = Tax.search([("company_id", "=", self.company.id), ("type_tax_use", "=", "sale")],
                           order="sequence, id")
        taxes.invoice_repartition_line_ids.mapped("account_id")
        taxes.refund_repartition_line_ids.mapped("account_id")
        self.taxes, self.names, self._rate_taxes = {}, set(), {}
        for tax in taxes:
            self._index(tax)
        for mp in marketplaces:
            if mp.amazon_collects_tax:
                self.clearing[mp.id] = mp.amazon_tax_account_id or self._default_clearing_account()

    def _key(self, tax):
        if tax.amount_type not in ("percent", "fixed") or tax.include_base_amount \
                or tax.children_tax_ids:
            return None
        amount = Decimal(str(tax.amount)).quantize(Decimal("0.0001"))
        return (tax.amount_type, amount, tax.price_include, tax.country_id.id) + _tax_accounts(tax)

    def _index(self, tax):
        self.names.add((tax.name, tax.country_id.id))
        key = self._key(tax)
        if key:
            self.taxes.setdefault(key, tax)

    # ============================================================ accounts
    def _default_clearing_account(self):
        """"Tax collected by Amazon": one per company, found by its XML id."""
        if self._default_clearing is None:
            name = CLEARING_XMLID % self.company.id
            account = self.env.ref("%s.%s" % (XMLID_MODULE, name), raise_if_not_found=False)
            if not account:
                # Two workers meeting the company's first Amazon-collected tax at once
                # create the account once: the second waits, then runs its batch again.
                creation_lock.guard_xmlids(self.env, XMLID_MODULE, [name])
                Account = self.env["account.account"]
                ref = self._default_sale_accounts()[0]
                ref = Account.browse(ref[:1]) if ref else Account
                code = ref.code or "250000"
                code = Account._search_new_account_code(self.company, len(code), code[:-2])
                account = Account.create({
                    "name": _("Tax collected by Amazon"), "code": code,
                    "account_type": "liability_current", "company_id": self.company.id,
                    "reconcile": False})
                self.env["ir.model.data"].create({
                    "module": XMLID_MODULE, "name": name, "model": "account.account",
                    "res_id": account.id, "noupdate": True})
            self._default_clearing = account
        return self._default_clearing

    def _default_sale_accounts(self):
        """Output tax accounts of the company's default sale tax (else of any sale tax)."""
        default = self.company.account_sale_tax_id
        if default:
            accounts = _tax_accounts(default)
            if accounts[0]:
                return accounts
        for key in self.taxes:
            if key[0] == "percent" and key[4]:
                return key[4], key[5] or key[4]
        return (), ()

    # ============================================================== taxes
    def tax_country(self, fpos):
        """Taxes on one invoice share a country: the foreign-VAT fiscal position's,
        else the company's fiscal country."""
        if fpos and fpos.foreign_vat and fpos.country_id:
            return fpos.country_id
        return self.company.account_fiscal_country_id or self.company.country_id

    def _group(self, country, name):
        """The tax group ``name`` of ``country`` (what invoices show as the tax's
        subtotal: "Tax 19%", not the 15 % group of the company's default tax);
        created like the country's existing group, with its closing accounts."""
        if self._groups is None:
            Group = self.env["account.tax.group"]
            self._groups = {}
            for group in Group.search(Group._check_company_domain(self.company), order="sequence, id"):
                self._groups.setdefault((group.name, group.country_id.id), group)
        key = (name, country.id)
        if key not in self._groups:
            like = next((g for (n, c), g in self._groups.items() if c == country.id), None)
            self._groups[key] = self.env["account.tax.group"].create({
                "name": name, "country_id": country.id, "company_id": self.company.id,
                "tax_payable_account_id": like.tax_payable_account_id.id if like else False,
                "tax_receivable_account_id": like.tax_receivable_account_id.id if like else False,
            })
        return self._groups[key]

    def _unique_name(self, name, country, account):
        """Tax names are unique per company and country: a second account set
        for the same rate gets its account code in the name."""
        if (name, country.id) in self.names and account.code:
            name = "%s [%s]" % (name, account.code)
        base, n = name, 1
        while (name, country.id) in self.names:
            n += 1
            name = "%s (%d)" % (base, n)
        return name

    def _get_or_create(self, amount_type, amount, included, accounts, country, name, description,
                       group):
        inv, ref = accounts
        inv, ref = tuple(inv[:1]), tuple((ref or inv)[:1])
        amount = Decimal(amount).quantize(Decimal("0.0001"))
        key = (amount_type, amount, included, country.id, inv, ref)
        tax = self.taxes.get(key)
        if tax:
            return tax
        account = self.env["account.account"].browse(inv)
        name = self._unique_name(name, country, account)
        creation_lock.guard_taxes(self.env, self.company, country, [name])
        tax = self.env["account.tax"].create({
            "name": name,
            "description": description,
            "amount_type": amount_type, "amount": float(amount),
            "type_tax_use": "sale", "price_include": included, "include_base_amount": False,
            "company_id": self.company.id, "country_id": country.id,
            "tax_group_id": self._group(country, group).id,
            "invoice_repartition_line_ids": [
                Command.create({"document_type": "invoice", "repartition_type": "base"}),
                Command.create({"document_type": "invoice", "repartition_type": "tax",
                                "account_id": inv[0] if inv else False})],
            "refund_repartition_line_ids": [
                Command.create({"document_type": "refund", "repartition_type": "base"}),
                Command.create({"document_type": "refund", "repartition_type": "tax",
                                "account_id": ref[0] if ref else False})],
        })
        self._index(tax)
        self.taxes[key] = tax
        return tax

    def _rate_tax(self, rate, included, accounts, country, collected):
        key = (rate, included, accounts, country.id, collected)
        if key not in self._rate_taxes:   # names are made (and translated) once per rate
            self._rate_taxes[key] = self._make_rate_tax(rate, included, accounts, country, collected)
        return self._rate_taxes[key]

    def _make_rate_tax(self, rate, included, accounts, country, collected):
        label = _fmt_rate(rate) + "%"
        if included:
            label = _("%s incl.", label)
        if collected:
            name = _("%s collected by Amazon", label)
            group = _("Tax collected by Amazon")
        else:
            name = _("%s (Amazon rate)", label)
            group = _("Tax %s", _fmt_rate(rate) + "%")
        return self._get_or_create("percent", rate, included, accounts, country, name, label, group)

    def rounding_tax(self, amount, account_id, country):
        """A fixed tax of plus or minus one cent on ``account_id``: with it, the
        adjustment line puts a cent on the tax account (never into revenue)."""
        account = self.env["account.account"].browse(account_id)
        return self._get_or_create(
            "fixed", amount, False, ((account_id,), (account_id,)), country,
            _("Amazon tax rounding %(amount)s (%(account)s)", amount="%+g" % amount,
              account=account.code), _("Rounding"), _("Tax rounding"))

    @staticmethod
    def _single_rate(taxes, country):
        """The rate of ``taxes`` when they are one plain percent tax of ``country``."""
        if len(taxes) == 1 and taxes.amount_type == "percent" and not taxes.include_base_amount \
                and not taxes.children_tax_ids and taxes.country_id == country:
            return Decimal(str(taxes.amount)).quantize(Decimal("0.0001")).normalize()
        return None

    @staticmethod
    def main_account(planned):
        """The tax account of the order's biggest taxed line (rounding goes there)."""
        best, account = None, False
        for line, _product, taxes in planned:
            accounts = _tax_accounts(taxes[:1])[0] if taxes else ()
            amount = abs(sum(q * u for q, u in line.split))
            if accounts and (best is None or amount > best):
                best, account = amount, accounts[0]
        return account

    def _twin(self, tax, included):
        """The same tax, price-included or not as the marketplace's prices are."""
        if tax.price_include == included:
            return tax
        key = self._key(tax)
        twin = self.taxes.get(key[:2] + (included,) + key[3:]) if key else None
        if not twin:
            suffix = _("incl.") if included else _("excl.")
            twin = tax.copy({"name": self._unique_name("%s (%s)" % (tax.name, suffix), tax.country_id,
                                                       self.env["account.account"]),
                             "price_include": included, "include_base_amount": False})
            self._index(twin)
        return twin

    # ============================================================== lines
    def plan(self, order, marketplace, fpos, products, extra_products, currency):
        """Order lines for ``order``: ``[(PlannedLine, product, taxes)]``, notes, problems.

        ``products``: per item, its product; ``extra_products``: kind -> product
        for shipping, gift wrap and promotion lines."""
        included = marketplace.price_includes_tax
        collected = marketplace.amazon_collects_tax
        country = self.tax_country(fpos)
        cent = Decimal(str(currency.rounding))
        company_taxes = {}

        def mapped(product):
            if product.id not in company_taxes:
                taxes = product.taxes_id.filtered(lambda t: t.company_id == self.company)
                company_taxes[product.id] = fpos.map_tax(taxes) if fpos else taxes
            return company_taxes[product.id]

        rates = []
        for product in products:
            rate = None if collected else self._single_rate(mapped(product), country)
            rates.append((rate,) if rate is not None else ())
        # Where prices include VAT, Amazon stating no tax is not a zero rate: the
        # seller's own taxes carry those lines (sales tax marketplaces keep a zero).
        absent = included and not collected
        planned = plan_order(order.items, included, cent, rates, absent=absent)
        index = {id(item): n for n, item in enumerate(order.items)}
        out, notes, problems = [], [], []
        for line in planned:
            item_product = products[index[id(line.items[0])]]
            product = item_product if line.kind == "item" else extra_products[line.kind]
            # a promotion reduces its item's tax: it starts from the item's taxes
            taxes = mapped(item_product if line.kind == "promotion" else product)
            label = product.display_name
            if not line.stated:
                chosen, note, problem = self._unstated(taxes, included, fpos, label)
                head = self._unstated_head(marketplace, fpos)
                if head not in notes:
                    notes.insert(0, head)
                if note not in notes:
                    notes.append(note)
                if problem:
                    problems.append(problem)
            elif line.rate is None:
                problems.append(_(
                    "%(line)s: no tax rate explains Amazon's tax of %(tax)s on %(amount)s; "
                    "the product's taxes were kept.",
                    line=label, tax=line.amazon_tax, amount=sum(q * u for q, u in line.split)))
                chosen = self._twin(taxes, included) if len(taxes) == 1 else taxes
            else:
                chosen, note, problem = self._choose(taxes, line.rate.rate, included, country,
                                                     collected, marketplace, label)
                if note and note not in notes:
                    notes.append(note)
                if problem:
                    problems.append(problem)
            out.append((line, product, chosen))
        return out, notes, problems

    @staticmethod
    def _unstated_head(marketplace, fpos):
        return _(
            "Amazon stated no tax for this order (%(mp)s prices include VAT): its VAT is not "
            "taken as zero; the seller's taxes are used (the products' taxes%(fpos)s), and the "
            "tax is Odoo's.", mp=marketplace.display_name,
            fpos=_(" mapped by the fiscal position %s", fpos.display_name) if fpos else "")

    def _unstated(self, taxes, included, fpos, label):
        """The seller's taxes for a line whose tax Amazon did not state: the product's
        taxes as the fiscal position maps them (price-included twins where prices
        include tax). Returns (taxes, note, problem)."""
        if not taxes:
            return taxes, _("%(line)s: no tax.", line=label), _(
                "%(line)s: Amazon stated no tax and the product has no sales tax%(fpos)s: set the "
                "product's tax (or the marketplace's fiscal position), then check the invoice.",
                line=label, fpos=_(" after the fiscal position %s", fpos.display_name) if fpos else "")
        chosen = self.env["account.tax"].union(*[self._twin(tax, included) for tax in taxes])
        return chosen, _("%(line)s: %(taxes)s.", line=label,
                         taxes=", ".join(chosen.mapped("name"))), None

    def _choose(self, taxes, rate, included, country, collected, marketplace, label):
        rate_text = _fmt_rate(rate) + "%"
        if collected:
            account = self.clearing[marketplace.id]
            tax = self._rate_tax(rate, included, ((account.id,), (account.id,)), country, True)
            key = (rate_text, account.id)
            if key not in self._collected_notes:
                self._collected_notes[key] = _(
                    "Amazon collects and remits the sales tax here (marketplace facilitator): "
                    "%(rate)s on %(account)s, not the company's own output tax.",
                    rate=rate_text, account=account.display_name)
            return tax, self._collected_notes[key], None
        own = self._single_rate(taxes, country)
        if own is not None and own == rate:
            return self._twin(taxes, included), None, None
        if not taxes and not rate:
            return taxes, None, None
        accounts = _tax_accounts(taxes[:1]) if taxes else ((), ())
        if not accounts[0]:
            accounts = self._default_sale_accounts()
        if not accounts[0]:
            return taxes, None, _(
                "%(line)s: no output tax account to post Amazon's %(rate)s on: set a default "
                "sales tax on the company.", line=label, rate=rate_text)
        tax = self._rate_tax(rate, included, accounts, country, False)
        why = _("the product has no tax") if not taxes else _(
            "the product's tax is %(taxes)s", taxes=", ".join(taxes.mapped("name")))
        return tax, _("%(line)s: Amazon charged %(rate)s and %(why)s, so %(tax)s is used.",
                      line=label, rate=rate_text, why=why, tax=tax.name), None
