"""Website authorization workflow against the emulator: Seller Central's consent page and
LWA's authorization_code grant (tools/spapi_emulator/authorization.py), through the
client layer's ``exchange_authorization_code``."""
import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from services import errors
from services.spapi_client import SpApiClient, authorization_consent_url
from tools.spapi_emulator.authorization import CODE_SECONDS

APP = "amzn1.sp.solution.11111111-2222-4333-8444-555555555555"
REDIRECT = "https://odoo.example.com/amazon_fbm/authorize/callback"


@pytest.fixture
def app(emulator):
    return emulator.register_application(APP, name="Odoo Connector", redirect_uris=[REDIRECT])


def client_for(emulator, refresh_token=None, secret=None):
    client_id, right_secret = next(iter(emulator.apps.items()))
    return SpApiClient(client_id=client_id, client_secret=secret or right_secret, refresh_token=refresh_token,
                       api_endpoint=emulator.url, lwa_endpoint=emulator.url, rate_scale=50.0, timeout=5,
                       max_retries=1, backoff_cap=0.1)


def consent(emulator, state="s-123", redirect_uri=REDIRECT, draft=True, app_id=APP):
    return httpx.get(authorization_consent_url(emulator.url, app_id, state, redirect_uri, draft=draft))


def confirm(emulator, **fields):
    """The Confirm button of the consent page: its form, posted as a browser does."""
    page = consent(emulator, **fields)
    assert page.status_code == 200, page.text
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    answer = httpx.post(emulator.url + "/apps/authorize/confirm", data=form)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["location"])
    return location, {k: v[0] for k, v in parse_qs(location.query).items()}


def test_consent_page_names_the_app_and_redirects_with_code_state_and_partner(emulator, app):
    page = consent(emulator)
    assert page.status_code == 200
    assert "Odoo Connector" in page.text and ">Confirm</button>" in page.text
    assert emulator.merchant_id in page.text
    location, query = confirm(emulator, state="opaque+state/=")
    assert location._replace(query="").geturl() == REDIRECT
    assert query["state"] == "opaque+state/=", "the state comes back unchanged"
    assert query["selling_partner_id"] == emulator.merchant_id
    assert query["spapi_oauth_code"]


@pytest.mark.parametrize("case, kwargs, text", [
    ("unregistered redirect", {"redirect_uri": "https://evil.example.com/cb"}, "not one of the OAuth Redirect URIs"),
    ("unknown application", {"app_id": "amzn1.sp.solution.unknown"}, "unknown"),
    ("no state", {"state": ""}, "no state"),
    ("draft app without version=beta", {"draft": False}, "version=beta"),
])
def test_consent_refused_without_redirect(emulator, app, case, kwargs, text):
    page = consent(emulator, **kwargs)
    assert page.status_code == 400, case
    assert "location" not in page.headers
    assert text in page.text
    assert not emulator.auth_codes


def test_confirm_checks_the_redirect_uri_again(emulator, app):
    answer = httpx.post(emulator.url + "/apps/authorize/confirm", data={
        "application_id": APP, "state": "s", "version": "beta", "redirect_uri": "https://evil.example.com/cb"})
    assert answer.status_code == 400 and "location" not in answer.headers
    assert not emulator.auth_codes


def test_consent_without_redirect_uri_uses_the_first_registered(emulator, app):
    emulator.register_application(APP, name="Odoo Connector", redirect_uris=["https://second.example.com/cb"])
    location, _query = confirm(emulator, redirect_uri=None)
    assert location._replace(query="").geturl() == REDIRECT


def test_code_gives_a_refresh_token_that_works(emulator, app):
    _location, query = confirm(emulator)
    token = client_for(emulator).exchange_authorization_code(query["spapi_oauth_code"], REDIRECT)
    assert token["refresh_token"].startswith("Atzr|") and token["token_type"] == "bearer"
    assert token["refresh_token"] != next(iter(emulator.refresh_tokens)), "a new refresh token"
    seller_client = client_for(emulator, refresh_token=token["refresh_token"])
    assert seller_client.test_connection() is not None
    assert emulator.calls["getMarketplaceParticipations"] == 1


def test_code_is_single_use(emulator, app):
    _location, query = confirm(emulator)
    first = client_for(emulator).exchange_authorization_code(query["spapi_oauth_code"], REDIRECT)
    with pytest.raises(errors.AmazonAuthError, match="already used") as refused:
        client_for(emulator).exchange_authorization_code(query["spapi_oauth_code"], REDIRECT)
    assert refused.value.amazon_code == "invalid_grant"
    # the first exchange's refresh token still works
    client_for(emulator, refresh_token=first["refresh_token"]).test_connection()


def test_code_expires_after_five_minutes(emulator, app):
    _location, query = confirm(emulator)
    emulator.age_authorization_codes(CODE_SECONDS + 1)
    with pytest.raises(errors.AmazonAuthError, match="5 minutes"):
        client_for(emulator).exchange_authorization_code(query["spapi_oauth_code"], REDIRECT)


def test_code_needs_the_same_redirect_uri_and_is_spent_by_a_wrong_one(emulator, app):
    _location, query = confirm(emulator)
    with pytest.raises(errors.AmazonAuthError) as refused:
        client_for(emulator).exchange_authorization_code(query["spapi_oauth_code"], "https://other.example.com/cb")
    assert refused.value.amazon_code == "invalid_grant"
    with pytest.raises(errors.AmazonAuthError, match="already used"):
        client_for(emulator).exchange_authorization_code(query["spapi_oauth_code"], REDIRECT)


def test_code_of_another_app_is_refused(emulator, app):
    emulator.apps["amzn1.application-oa2-client.other"] = "other-secret"
    emulator.register_application("amzn1.sp.solution.other", client_id="amzn1.application-oa2-client.other",
                                  name="Other", redirect_uris=[REDIRECT])
    _location, query = confirm(emulator, app_id="amzn1.sp.solution.other")
    with pytest.raises(errors.AmazonAuthError) as refused:
        client_for(emulator).exchange_authorization_code(query["spapi_oauth_code"], REDIRECT)
    assert refused.value.amazon_code == "invalid_grant"


def test_wrong_client_secret_is_refused(emulator, app):
    _location, query = confirm(emulator)
    with pytest.raises(errors.AmazonAuthError, match="client secret") as refused:
        client_for(emulator, secret="wrong").exchange_authorization_code(query["spapi_oauth_code"], REDIRECT)
    assert refused.value.amazon_code == "invalid_client"


def test_lwa_outage_is_retried(emulator, app):
    _location, query = confirm(emulator)
    emulator.fail_next("lwaToken", 1, status=503)
    token = client_for(emulator).exchange_authorization_code(query["spapi_oauth_code"], REDIRECT)
    assert token["refresh_token"]
    assert emulator.calls["fault:lwaToken:503"] == 1


def test_consent_url_shape():
    url = authorization_consent_url("https://sellercentral.amazon.com/", APP, "st", REDIRECT, draft=True)
    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("sellercentral.amazon.com", "/apps/authorize/consent")
    assert parse_qs(parts.query) == {"application_id": [APP], "state": ["st"], "version": ["beta"],
                                     "redirect_uri": [REDIRECT]}
    published = parse_qs(urlsplit(authorization_consent_url("https://x", APP, "st", draft=False)).query)
    assert "version" not in published and "redirect_uri" not in published
