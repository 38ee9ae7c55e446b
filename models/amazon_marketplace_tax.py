from odoo import api, fields, models


class AmazonMarketplaceReference(models.Model):
    _inherit = "amazon.marketplace.reference"

    amazon_collects_tax = fields.Boolean(
        "Marketplace Facilitator",
        help="Marketplace facilitator laws make Amazon collect and remit the sales tax of "
             "orders in this marketplace.")


class AmazonMarketplace(models.Model):
    """Where the taxes of a marketplace's orders come from and where they are posted."""

    _inherit = "amazon.marketplace"

    fiscal_position_id = fields.Many2one(
        "account.fiscal.position", string="Fiscal Position",
        domain="[('company_id', 'in', (company_id, False))]",
        help="Maps the products' taxes for this marketplace's orders (e.g. an OSS or foreign "
             "VAT fiscal position). Empty: Odoo's rules for the buyer's address. Where the "
             "mapped tax's rate is not the one Amazon charged, a tax at Amazon's rate is used "
             "and the order's tax note says so.")
    amazon_collects_tax = fields.Boolean(
        "Tax collected and remitted by Amazon", compute="_compute_amazon_collects_tax",
        store=True, readonly=False,
        help="Amazon collects the sales tax from the buyer and remits it to the tax authorities "
             "(marketplace facilitator laws: United States, Canada, Australia ...). The tax "
             "Amazon charged is posted on the clearing account below, not as the company's own "
             "output tax. On by default where Amazon is the marketplace facilitator; turn it "
             "off if you collect and remit this tax yourself.")
    amazon_tax_account_id = fields.Many2one(
        "account.account", string="Amazon Tax Clearing Account",
        domain="[('company_id', '=', company_id), "
               "('account_type', 'in', ('liability_current', 'asset_current'))]",
        help="Where the tax Amazon collects and remits is posted (cleared when Amazon settles). "
             "Empty: the account 'Tax collected by Amazon' that the connector creates once per "
             "company among the current liabilities.")

    # === COMPUTE METHODS ===
    @api.depends("reference_id")
    def _compute_amazon_collects_tax(self):
        for mp in self:
            if mp.reference_id:
                mp.amazon_collects_tax = mp.reference_id.amazon_collects_tax
