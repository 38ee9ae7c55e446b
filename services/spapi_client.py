"""The one place that talks HTTP to Amazon, on python-amazon-sp-api.

``SpApiClient`` is configured per seller, in memory (never through process
environment variables, which Odoo workers share). It adds what the library
leaves to its users: any base URL for the API and for LWA, token buckets per
operation, bounded retries on 429 / 5xx / timeouts, call counting, and typed
errors with messages a seller understands.
"""
import collections
import hashlib
import logging
import random
import threading
import time
from urllib.parse import urlencode, urlsplit

import httpx
from cachetools import TTLCache
from sp_api.api import Sellers, Tokens
from sp_api.auth import AccessTokenClient
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base import Marketplaces
from sp_api.base.credential_provider import FromCodeCredentialProvider
from sp_api.base.exceptions import SellingApiException

from . import errors
from .const import (
    AUTHORIZE_DRAFT_VERSION,
    LWA_ENDPOINT,
    LWA_TOKEN_PATH,
    NOTIFICATIONS_GRANTLESS_SCOPE,
    SELLER_CENTRAL_CONSENT_PATH,
)
from .errors import _lt
from .feeds_adapter import FeedsAdapter
from .listings_adapter import ListingsAdapter
from .notifications_adapter import NotificationsAdapter
from .orders_adapter import OrdersAdapter
from .rate_limit import RateLimiter
from .reports_adapter import ReportsAdapter

_logger = logging.getLogger(__name__)
# httpx logs every URL at INFO: presigned document URLs carry credentials.
logging.getLogger("httpx").setLevel(logging.WARNING)
# python-amazon-sp-api logs request headers (the access token, a Restricted
# Data Token) and whole responses (buyer data) at DEBUG: never let them out.
logging.getLogger("sp_api").setLevel(logging.INFO)



_token_cache = TTLCache(maxsize=256, ttl=3000)
_token_lock = threading.Lock()

LWA_MESSAGES = {
    "invalid_client": _lt("Amazon refused the LWA client id or client secret. LWA client "
                          "secrets expire every 180 days: copy the current secret from Seller "
                          "Central (Apps & Services > Develop Apps) into the seller."),
    "invalid_grant": _lt("Amazon refused the refresh token: it was revoked or belongs to another "
                         "app. Authorise the app again in Seller Central and paste the new "
                         "refresh token."),
    "unauthorized_client": _lt("This LWA app may not use refresh tokens: check the app "
                               "registration in Seller Central."),
    "invalid_scope": _lt("Amazon refused a grantless token for the Notifications API: check "
                         "that the LWA client id and secret are those of an SP-API app."),
}


# The authorization_code grant (website authorization workflow): what LWA's refusals mean there.
AUTHORIZATION_CODE_MESSAGES = {
    "invalid_grant": _lt("Amazon refused the authorization code: it was already used, is more than "
                         "5 minutes old, or was issued for another redirect URI or app. Click "
                         "Authorize with Amazon again."),
    "invalid_request": _lt("Amazon refused the authorization request (%(error)s): the redirect URI "
                           "must be one of the app's OAuth Redirect URIs in Seller Central."),
    "unauthorized_client": _lt("This LWA app may not use the authorization code grant: check the app "
                               "registration in Seller Central."),
}


def authorization_consent_url(seller_central_url, application_id, state, redirect_uri=None, draft=True):
    """Seller Central's consent page of the website authorization workflow, where the
    seller signs in and authorises the app; Amazon then sends the browser to
    ``redirect_uri`` with ``spapi_oauth_code``, ``state`` and ``selling_partner_id``."""
    params = {"application_id": application_id, "state": state}
    if draft:
        params["version"] = AUTHORIZE_DRAFT_VERSION
    if redirect_uri:
        params["redirect_uri"] = redirect_uri
    return seller_central_url.rstrip("/") + SELLER_CENTRAL_CONSENT_PATH + "?" + urlencode(params)


def _token_key(lwa_base, client_id, secret, refresh_token, flavor=""):
    raw = "|".join((lwa_base, client_id or "", secret or "", refresh_token or "", flavor))
    return hashlib.sha256(raw.encode()).hexdigest()


def _lwa_answer(response):
    """The JSON body of an LWA token answer; an error answer (or an outage page, which is
    no JSON) raises the library's ``AuthorizationError`` with LWA's code and words."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200:
        status = response.status_code
        raise AuthorizationError(body.get("error") or "http_%s" % status,
                                 body.get("error_description") or "HTTP %s" % status, status)
    return body


def _lwa_client_class(lwa_endpoint, timeout):
    parts = urlsplit(lwa_endpoint or LWA_ENDPOINT)

    class _LwaClient(AccessTokenClient):
        scheme = parts.scheme + "://"
        host = parts.netloc
        path = (parts.path.rstrip("/") or "") + LWA_TOKEN_PATH

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._transport._client.timeout = httpx.Timeout(timeout)

        def _get_cache_key(self, token_flavor=""):
            # The library keys its cache on the refresh token alone; a wrong
            # secret must not be served a token fetched with the right one.
            return _token_key(self.scheme + self.host, self.cred.client_id,
                              self.cred.client_secret, self.cred.refresh_token, token_flavor)

        def _request(self, url, data, headers):
            # The library reads every LWA answer as JSON; an outage page is not.
            return _lwa_answer(self._transport.request("POST", url, data=data, headers=headers))

        def get_auth(self):
            from sp_api.auth import AccessTokenResponse
            key = self._get_cache_key()
            with _token_lock:
                token = _token_cache.get(key)
            if token is None:
                token = self._request(self.scheme + self.host + self.path, self.data, self.headers)
                with _token_lock:
                    _token_cache[key] = token
            return AccessTokenResponse(**token)

        def get_grantless_auth(self, scope=NOTIFICATIONS_GRANTLESS_SCOPE):
            # Grantless operations (createDestination...): the client_credentials
            # grant, no refresh token; cached beside the seller's tokens, per scope.
            from sp_api.auth import AccessTokenResponse
            key = _token_key(self.scheme + self.host, self.cred.client_id, self.cred.client_secret,
                             "", "grantless:" + scope)
            with _token_lock:
                token = _token_cache.get(key)
            if token is None:
                token = self._request(self.scheme + self.host + self.path,
                                      self.grantless_data(scope), self.headers)
                with _token_lock:
                    _token_cache[key] = token
            return AccessTokenResponse(**token)

    return _LwaClient


class _EndpointMixin:
    """Points a library client at any base URL and surfaces bare HTTP errors."""

    @property
    def headers(self):
        headers = super().headers
        headers["host"] = urlsplit(self.endpoint).netloc
        return headers

    def _check_response(self, res, *args, **kwargs):
        if res.status_code >= 500 or res.status_code == 429:
            try:
                body = res.json()
            except ValueError:
                body = {}
            if not (isinstance(body, dict) and body.get("errors")):
                from sp_api.base.exceptions import get_exception_for_code
                raise get_exception_for_code(res.status_code)(
                    [{"code": "HttpError", "message": "HTTP %s" % res.status_code}],
                    headers=res.headers)
        return super()._check_response(res, *args, **kwargs)


_bound_classes = {}


def _bound(cls):
    if cls not in _bound_classes:
        _bound_classes[cls] = type("Bound" + cls.__name__, (_EndpointMixin, cls), {})
    return _bound_classes[cls]


class SpApiClient:
    """SP-API access for one seller account."""

    def __init__(self, *, client_id, client_secret, refresh_token, api_endpoint,
                 lwa_endpoint=None, account_key=None, timeout=30.0, rate_scale=1.0,
                 max_retries=6, backoff_cap=60.0, sleep=time.sleep, bucket_store=None,
                 orders_api_version=None):
        self.credentials = {
            "lwa_app_id": client_id,
            "lwa_client_secret": client_secret,
            "refresh_token": refresh_token,
        }
        self.refresh_token = refresh_token
        self.api_endpoint = api_endpoint.rstrip("/")
        self.lwa_endpoint = (lwa_endpoint or LWA_ENDPOINT).rstrip("/")
        self.timeout = timeout
        self.orders_api_version = orders_api_version
        self.rate_scale = rate_scale
        self.max_retries = max_retries
        self.backoff_cap = backoff_cap
        self._sleep = sleep
        # Amazon's quotas are per selling partner and application, in one region.
        key = account_key or quota_key(self.api_endpoint, client_id, refresh_token)
        self.limiter = RateLimiter(key, scale=rate_scale, store=bucket_store)
        self.calls = collections.Counter()
        self.throttled = collections.Counter()
        self.quota_wait = 0.0
        self.damaged_downloads = 0
        self._lwa_class = _lwa_client_class(self.lwa_endpoint, timeout)
        self._apis = {}
        # ``time.time()`` after which no call waits for quota or for a retry:
        # a call that would raises ``AmazonOutOfTime`` instead (resumable work
        # bounded by Odoo's time limit sets it). None: wait as long as needed.
        self.deadline = None

    # ------------------------------------------------------------------ plumbing
    def api(self, cls, restricted_data_token=None):
        """A python-amazon-sp-api client of class ``cls`` bound to this seller
        (one per class and token, so its HTTP connection is reused)."""
        key = (cls, restricted_data_token)
        if key in self._apis:
            return self._apis[key]
        client = _bound(cls)(
            Marketplaces.US,
            refresh_token=self.refresh_token,
            credentials=self.credentials,
            credential_providers=(FromCodeCredentialProvider,),
            restricted_data_token=restricted_data_token,
            timeout=self.timeout,
            auth_token_client_class=self._lwa_class,
        )
        client.endpoint = self.api_endpoint
        self._apis[key] = client
        return client

    def close(self):
        for client in self._apis.values():
            client.close()
        self._apis.clear()

    def _backoff(self, attempt, base):
        delay = min(self.backoff_cap, base * (2 ** attempt))
        return delay * (0.5 + random.random() / 2)

    def call(self, operation, fn, *args, **kwargs):
        """Run ``fn`` for ``operation`` under its bucket, with bounded retries."""
        bucket = self.limiter.bucket(operation)
        base = 1.0 / bucket.rate
        last = None
        for attempt in range(self.max_retries + 1):
            left = self._time_left()
            waited = bucket.acquire(max_wait=left)
            if waited is None:
                raise errors.AmazonOutOfTime(_lt(
                    "The quota of %(operation)s has no call left before this run's time limit; "
                    "the next run continues."), params={"operation": operation}, operation=operation,
                    wait=bucket.refused_wait)
            self.quota_wait += waited
            self.calls[operation] += 1
            try:
                result = fn(*args, **kwargs)
                self._follow_rate(operation, getattr(result, "headers", None))
                return result
            except AuthorizationError as exc:
                if (exc.status_code or 0) >= 500 or exc.status_code == 429:
                    # LWA itself is down or busy: retry like any server error.
                    last = errors.AmazonServerError(_lt(
                        "Amazon's login service (LWA) answered %(status)s repeatedly; the import "
                        "will resume on the next run."), params={"status": exc.status_code},
                        operation=operation, status=exc.status_code, amazon_code=exc.error_code)
                else:
                    message = LWA_MESSAGES.get(exc.error_code) or _lt("Amazon login (LWA) failed: %(error)s")
                    raise errors.AmazonAuthError(message, params={"error": exc.message or exc.error_code},
                                                 operation=operation, status=exc.status_code,
                                                 amazon_code=exc.error_code) from None
            except SellingApiException as exc:
                status = getattr(exc, "code", None)
                amazon_code = getattr(exc, "amzn_code", None)
                text = getattr(exc, "message", "") or ""
                self._follow_rate(operation, getattr(exc, "headers", None))
                if status == 429:
                    self.throttled[operation] += 1
                    bucket.drain()
                    last = errors.AmazonThrottled(_lt(
                        "Amazon throttled %(operation)s (QuotaExceeded) and kept doing so after "
                        "%(tries)s tries; the import will resume on the next run."),
                        params={"operation": operation, "tries": attempt + 1},
                        operation=operation, status=429, amazon_code=amazon_code)
                elif status and status >= 500 or status == 999:
                    last = errors.AmazonServerError(_lt(
                        "Amazon answered %(status)s to %(operation)s repeatedly (%(text)s); try "
                        "again later."), params={"status": status, "operation": operation,
                                                 "text": text or "server error"},
                        operation=operation, status=status, amazon_code=amazon_code)
                elif status == 403 and attempt == 0 and self._forget_token():
                    # A cached access token Amazon no longer accepts: log in again once.
                    last = errors.AmazonAccessDenied(text, operation=operation, status=403)
                    continue
                elif status == 403:
                    raise errors.AmazonAccessDenied(_lt(
                        "Amazon denied %(operation)s (%(text)s). Check that the app has the roles "
                        "this operation needs (Inventory and Order Tracking; Direct-to-Consumer "
                        "Shipping for buyer data) and that the seller authorised it."),
                        params={"operation": operation, "text": text or amazon_code or "Unauthorized"},
                        operation=operation, status=403, amazon_code=amazon_code) from None
                else:
                    raise errors.AmazonRequestError(
                        _lt("Amazon rejected %(operation)s: %(text)s"),
                        params={"operation": operation, "text": text or amazon_code or status},
                        operation=operation, status=status, amazon_code=amazon_code) from None
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                last = errors.AmazonUnreachable(_lt(
                    "Amazon could not be reached at %(endpoint)s for %(operation)s (%(error)s). "
                    "Check the endpoint and the server's network."),
                    params={"endpoint": self.api_endpoint, "operation": operation,
                            "error": type(exc).__name__}, operation=operation)
            if attempt < self.max_retries:
                delay = self._backoff(attempt, base)
                left = self._time_left()
                if left is not None and delay > left:
                    raise errors.AmazonOutOfTime(_lt(
                        "%(error)s The next try would run past this run's time limit; the next "
                        "run continues."), params={"error": last}, operation=operation, wait=delay)
                self._sleep(delay)
        raise last

    def available(self, operation):
        """How many calls of ``operation`` its bucket allows now, without waiting
        (a fraction: the next token is on its way), and the bucket's rate per second."""
        bucket = self.limiter.bucket(operation)
        return bucket.available(), bucket.rate

    def _time_left(self):
        return None if self.deadline is None else max(0.0, self.deadline - time.time())

    def _follow_rate(self, operation, headers):
        """Amazon says in ``x-amzn-RateLimit-Limit`` the rate it grants this seller."""
        if headers is None or operation == "downloadDocument":
            return
        value = headers.get("x-amzn-RateLimit-Limit") if hasattr(headers, "get") else None
        if value:
            self.limiter.follow_header(operation, value)

    def _forget_token(self):
        parts = urlsplit(self.lwa_endpoint)
        key = _token_key(parts.scheme + "://" + parts.netloc, self.credentials["lwa_app_id"],
                         self.credentials["lwa_client_secret"], self.refresh_token)
        grantless = _token_key(parts.scheme + "://" + parts.netloc, self.credentials["lwa_app_id"],
                               self.credentials["lwa_client_secret"], "",
                               "grantless:" + NOTIFICATIONS_GRANTLESS_SCOPE)
        with _token_lock:
            forgot = _token_cache.pop(grantless, None) is not None
            return (_token_cache.pop(key, None) is not None) or forgot

    # ------------------------------------------------------------ operations
    def test_connection(self):
        """LWA token plus one cheap call; returns the marketplaces the seller sells on."""
        res = self.call("getMarketplaceParticipations",
                        self.api(Sellers).get_marketplace_participation)
        return [p.get("marketplace", {}).get("id") for p in (res.payload or [])]

    def exchange_authorization_code(self, code, redirect_uri):
        """LWA's ``authorization_code`` grant: the code Seller Central sent to the redirect
        URI -> ``{"refresh_token", "access_token", ...}``. The library has no helper for it;
        the call goes through ``call`` (the lwaToken quota, retries on 5xx, 429 and timeouts,
        typed errors). The access token is cached for the new refresh token."""
        url = self.lwa_endpoint + LWA_TOKEN_PATH
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "client_id": self.credentials["lwa_app_id"],
                "client_secret": self.credentials["lwa_client_secret"]}

        def post():
            body = _lwa_answer(httpx.post(
                url, data=data, timeout=self.timeout,
                headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"}))
            if not isinstance(body, dict) or not body.get("refresh_token"):
                raise AuthorizationError("invalid_response", "LWA answered no refresh token", status_code=400)
            return body

        try:
            token = self.call("lwaToken", post)
        except errors.AmazonAuthError as exc:
            message = AUTHORIZATION_CODE_MESSAGES.get(exc.amazon_code)
            if not message:
                raise
            raise errors.AmazonAuthError(message, params={"error": exc.params.get("error") or exc.amazon_code},
                                         operation="lwaToken", status=exc.status,
                                         amazon_code=exc.amazon_code) from None
        parts = urlsplit(self.lwa_endpoint)
        key = _token_key(parts.scheme + "://" + parts.netloc, self.credentials["lwa_app_id"],
                         self.credentials["lwa_client_secret"], token["refresh_token"])
        if token.get("access_token"):
            with _token_lock:
                _token_cache[key] = {k: token[k] for k in ("access_token", "refresh_token", "token_type",
                                                           "expires_in") if k in token}
        return token

    def create_restricted_data_token(self, resources):
        res = self.call("createRestrictedDataToken",
                        self.api(Tokens).create_restricted_data_token,
                        restrictedResources=resources)
        return res.payload["restrictedDataToken"]

    # ------------------------------------------------------------ adapters
    def orders(self, version=None):
        """The Orders API adapter, in ``version`` or the seller's Orders API version."""
        return OrdersAdapter(self, version or self.orders_api_version)

    def reports(self):
        """The Reports API adapter."""
        return ReportsAdapter(self)

    def listings(self, seller_id):
        """The Listings Items API adapter (2021-08-01) for the seller's merchant id."""
        return ListingsAdapter(self, seller_id)

    def feeds(self):
        """The Feeds API adapter (2021-06-30), for any feed type."""
        return FeedsAdapter(self)

    def notifications(self):
        """The Notifications API adapter (destinations, ORDER_CHANGE subscription)."""
        return NotificationsAdapter(self)


def quota_key(api_endpoint, client_id, refresh_token):
    """Who Amazon counts calls for: one selling partner (refresh token) and
    application (client id) in one region (endpoint). Hashed: never a secret."""
    raw = "|".join((api_endpoint.rstrip("/"), client_id or "", refresh_token or ""))
    return hashlib.sha256(raw.encode()).hexdigest()[:24]
