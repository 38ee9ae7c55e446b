"""Authorize with Amazon: where Seller Central sends the browser back (website
authorization workflow). The seller model checks the state and stores the token;
this controller only reads the query and answers the browser."""
from odoo import _, http
from odoo.exceptions import AccessError, UserError
from odoo.http import request

from ..services.const import AUTHORIZE_CALLBACK_PATH


class AmazonAuthorizeController(http.Controller):

    @http.route(AUTHORIZE_CALLBACK_PATH, type="http", auth="user", methods=["GET"])
    def amazon_authorize_callback(self, spapi_oauth_code=None, state=None, selling_partner_id=None, **kwargs):
        try:
            seller = request.env["amazon.seller"]._authorize_callback(state, spapi_oauth_code, selling_partner_id)
        except (UserError, AccessError) as exc:
            return request.render("amazon_fbm_connector.authorize_refused",
                                  {"message": exc.args[0], "back_url": "/web"}, status=400)
        request.env["bus.bus"]._sendone(request.env.user.partner_id, "simple_notification", {
            "type": "success", "title": _("Amazon"), "sticky": False,
            "message": _("%s is authorized: Odoo stored its new refresh token.", seller.name)})
        action = request.env.ref("amazon_fbm_connector.action_amazon_seller")
        return request.redirect("/web#id=%d&model=amazon.seller&view_type=form&action=%d" % (seller.id, action.id))
