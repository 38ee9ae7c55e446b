"""The website authorization workflow of the emulator (Seller Central's consent page and
LWA's ``authorization_code`` grant), as Amazon documents it, never kinder:

- ``GET /apps/authorize/consent?application_id=...&state=...[&version=beta][&redirect_uri=...]``
  shows the consent page of a registered application (its name, the selling partner signed
  in, a Confirm button). An unknown application, a missing state, a redirect URI that is not
  one of the application's registered OAuth Redirect URIs, or an application in Draft status
  without ``version=beta`` get an error page, never a redirect.
- ``POST /apps/authorize/confirm`` (the Confirm button) checks all of it again, issues an
  authorization code and answers 302 to the redirect URI (the first registered one when the
  consent URL named none) with ``spapi_oauth_code``, ``state`` (unchanged) and
  ``selling_partner_id``.
- ``POST /auth/o2/token`` with ``grant_type=authorization_code``: the client id and secret
  must be those of the application the code was issued for, ``redirect_uri`` the one the
  code was sent to; a code is single-use and expires after 5 minutes (``invalid_grant``).
  The answer carries a new refresh token, which the ``refresh_token`` grant then accepts.
"""
import html
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

CODE_SECONDS = 300
DEFAULT_APP_ID = "amzn1.sp.solution.5f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f"
ROUTES = [
    ("GET", r"/apps/authorize/consent", "consent", None),
    ("POST", r"/apps/authorize/confirm", "consent_confirm", None),
]
_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>%(title)s</title>
<style>
body{font-family:Arial,Helvetica,sans-serif;background:#f3f3f3;margin:0}
header{background:#232f3e;color:#fff;padding:14px 24px;font-size:18px}
header b{color:#ff9900}
main{max-width:560px;margin:48px auto;background:#fff;border:1px solid #ddd;border-radius:8px;padding:28px}
h1{font-size:22px;margin-top:0}
.muted{color:#555;font-size:14px}
.error{color:#b12704}
button{background:#ffd814;border:1px solid #fcd200;border-radius:8px;padding:9px 28px;font-size:15px;cursor:pointer}
ul{padding-left:20px}
</style></head>
<body><header><b>amazon</b> seller central &middot; SP-API emulator</header><main>%(body)s</main></body></html>
"""


class AuthorizationState:
    """Registered applications and the authorization codes issued (mixed into Emulator)."""

    def reset_authorization(self):
        self.auth_codes = {}         # code -> {"app", "client_id", "redirect_uri", "partner", "issued", "used"}

    def register_application(self, application_id=DEFAULT_APP_ID, *, client_id=None, name="Test SP-API App",
                             redirect_uris=(), draft=True):
        """An SP-API application (Seller Central > Develop Apps): its LWA client (the
        emulator's first one by default), its OAuth Redirect URIs, and whether it is still
        in Draft status (its consent URL then needs ``version=beta``). Registering again
        adds redirect URIs."""
        with self.lock:
            app = self.applications.setdefault(application_id, {
                "client_id": client_id or next(iter(self.apps)), "name": name,
                "redirect_uris": [], "draft": draft})
            app.update(name=name, draft=draft)
            if client_id:
                app["client_id"] = client_id
            for uri in redirect_uris:
                if uri not in app["redirect_uris"]:
                    app["redirect_uris"].append(uri)
            return application_id

    def age_authorization_codes(self, seconds):
        """Every code issued so far is ``seconds`` older (a test's five minutes)."""
        with self.lock:
            for code in self.auth_codes.values():
                code["issued"] -= seconds


class AuthorizationHandlerMixin:
    """HTTP handlers of the consent page and the authorization_code grant."""

    def _page(self, status, title, body):
        self._send(status, raw=(_PAGE % {"title": html.escape(title), "body": body}).encode("utf-8"),
                   content_type="text/html; charset=utf-8")

    def _consent_refusal(self, message):
        self._page(400, "Authorization error", '<h1 class="error">We could not authorize this application</h1>'
                   '<p>%s</p><p class="muted">Go back to the application and start again.</p>'
                   % html.escape(message))

    def _consent_request(self, params):
        """(application, redirect URI) of a consent request, or None after an error page."""
        emu = self.emulator
        app_id = params.get("application_id") or ""
        app = emu.applications.get(app_id)
        if not app:
            self._consent_refusal("The application %s is unknown." % app_id)
            return None
        if not params.get("state"):
            self._consent_refusal("The authorization request has no state parameter.")
            return None
        if app["draft"] and params.get("version") != "beta":
            self._consent_refusal("The application %s is in Draft status: its authorization URL needs "
                                  "version=beta." % app["name"])
            return None
        redirect_uri = params.get("redirect_uri") or (app["redirect_uris"] or [None])[0]
        if not redirect_uri or redirect_uri not in app["redirect_uris"]:
            self._consent_refusal("The redirect_uri %s is not one of the OAuth Redirect URIs registered "
                                  "for the application %s." % (redirect_uri or "(none)", app["name"]))
            return None
        return app, redirect_uri

    def h_consent(self):
        params = {k: v[0] for k, v in self.query.items()}
        checked = self._consent_request(params)
        if checked is None:
            return None
        app, _redirect_uri = checked
        fields = "".join('<input type="hidden" name="%s" value="%s">' % (html.escape(k), html.escape(v))
                         for k, v in params.items()
                         if k in ("application_id", "state", "version", "redirect_uri"))
        body = ("<h1>Authorize %(name)s</h1>"
                "<p>You are signed in as selling partner <b>%(partner)s</b>.</p>"
                "<p><b>%(name)s</b> asks to access your selling account through the Selling Partner "
                "API:</p><ul><li>Orders, reports and shipments</li><li>Listings and inventory</li>"
                "<li>Notifications, returns and settlements</li></ul>"
                '<form method="post" action="/apps/authorize/confirm">%(fields)s'
                '<button type="submit" name="confirm" value="1">Confirm</button></form>'
                '<p class="muted">Application id %(app)s%(beta)s</p>') % {
            "name": html.escape(app["name"]), "partner": html.escape(self.emulator.merchant_id),
            "fields": fields, "app": html.escape(params["application_id"]),
            "beta": " (Draft)" if app["draft"] else ""}
        self._page(200, "Authorize %s" % app["name"], body)

    def h_consent_confirm(self):
        emu = self.emulator
        params = {k: v[0] for k, v in parse_qs(self.body.decode("utf-8", "replace")).items()}
        checked = self._consent_request(params)
        if checked is None:
            return None
        app, redirect_uri = checked
        code = "AN" + secrets.token_urlsafe(18)
        emu.auth_codes[code] = {"app": params["application_id"], "client_id": app["client_id"],
                                "redirect_uri": redirect_uri, "partner": emu.merchant_id,
                                "issued": time.monotonic(), "used": False}
        parts = urlsplit(redirect_uri)
        query = urlencode({"spapi_oauth_code": code, "state": params["state"],
                           "selling_partner_id": emu.merchant_id})
        location = urlunsplit(parts._replace(query=(parts.query + "&" if parts.query else "") + query))
        self._send(302, raw=b"", headers={"Location": location}, content_type="text/html")

    def lwa_authorization_code(self, form):
        """The authorization_code grant (client id and secret already checked)."""
        emu = self.emulator
        code = emu.auth_codes.get(form.get("code") or "")
        refused = {"error": "invalid_grant",
                   "error_description": "The request has an invalid grant parameter : code"}
        if not form.get("redirect_uri"):
            return self._send(400, {"error": "invalid_request",
                                    "error_description": "The request is missing a required parameter : "
                                                         "redirect_uri"})
        if code is None or code["used"] or time.monotonic() - code["issued"] > CODE_SECONDS \
                or code["client_id"] != form["client_id"]:
            if code is not None:
                code["used"] = True     # a code presented once is spent, whatever the answer
            return self._send(400, refused)
        code["used"] = True
        if form["redirect_uri"] != code["redirect_uri"]:
            return self._send(400, {"error": "invalid_grant",
                                    "error_description": "The request has an invalid grant parameter : "
                                                         "redirect_uri"})
        refresh = "Atzr|" + secrets.token_urlsafe(32)
        emu.add_refresh_token(refresh, client_id=code["client_id"])
        emu.refresh_tokens[refresh]["selling_partner_id"] = code["partner"]
        access = "Atza|" + secrets.token_urlsafe(24)
        emu.access_tokens[access] = refresh
        self._send(200, {"access_token": access, "refresh_token": refresh,
                         "token_type": "bearer", "expires_in": 3600})
