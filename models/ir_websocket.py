from odoo import models

from .amazon_refresh_mixin import REFRESH_CHANNEL


class IrWebsocket(models.AbstractModel):
    _inherit = "ir.websocket"

    # === BUSINESS METHODS ===
    def _build_bus_channel_list(self, channels):
        """Amazon users hear which Amazon records of their companies the server changed
        (``amazon.refresh.mixin``): their open forms and lists reload."""
        channels = super()._build_bus_channel_list(channels)
        user = self.env.user
        if user and not user._is_public() and user.has_group("amazon_fbm_connector.group_amazon_user"):
            channels = list(channels) + [(company, REFRESH_CHANNEL) for company in user.company_ids]
        return channels
