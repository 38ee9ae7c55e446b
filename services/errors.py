"""Typed errors of the SP-API layer, with messages a seller can act on.

The messages are written here, in the client layer, which imports nothing of Odoo.
They are marked with ``_lt`` (so that Odoo's translation export finds them) and kept
as a template and its parameters; ``str(error)`` renders the template in the
language of the Odoo code that reads it (the ``env`` of its caller, as Odoo's own
``_()`` finds it), from this addon's translations. Outside Odoo it is English.
"""
import inspect

MODULE = "amazon_fbm_connector"


def _lt(text):
    """Marks a message for translation; rendered when the error is read (``str``)."""
    return text


def _caller_lang(frame):
    """The language of the Odoo code in ``frame`` (``self.env``, ``env`` or ``context``)."""
    for name in ("self", "env"):
        obj = frame.f_locals.get(name)
        env = getattr(obj, "env", None) if name == "self" else obj
        lang = getattr(env, "lang", None)
        if lang:
            return lang
    context = frame.f_locals.get("context")
    return context.get("lang") if isinstance(context, dict) else None


def render(template, params, frame=None):
    """``template % params``, translated for the caller's language when Odoo runs."""
    text = template
    try:
        lang = _caller_lang(frame) if frame is not None else None
        if lang and lang != "en_US":
            from odoo.tools.translate import code_translations
            text = code_translations.get_python_translations(MODULE, lang).get(template, template)
    except Exception:  # noqa: BLE001 - a translation never hides the error itself
        text = template
    try:
        return text % params if params else text
    except (TypeError, ValueError, KeyError):
        return template % params if params else template


class AmazonError(Exception):
    """Base error; ``str(error)`` is meant for the seller (translated, see above)."""

    retryable = False

    def __init__(self, message, *, operation=None, status=None, amazon_code=None, params=None):
        self.template = message
        self.params = params or {}
        super().__init__(render(message, self.params))
        self.operation = operation
        self.status = status
        self.amazon_code = amazon_code

    def __str__(self):
        return render(self.template, self.params, inspect.currentframe().f_back)


class AmazonAuthError(AmazonError):
    """LWA refused the credentials (wrong secret, revoked refresh token)."""


class AmazonAccessDenied(AmazonError):
    """SP-API answered 403: the app lacks a role or the token is not accepted."""


class AmazonUnreachable(AmazonError):
    """No answer from the endpoint (DNS, refused connection, timeouts)."""

    retryable = True


class AmazonThrottled(AmazonError):
    """Still 429 QuotaExceeded after the bounded retries."""

    retryable = True


class AmazonServerError(AmazonError):
    """Amazon kept answering 5xx after the bounded retries."""

    retryable = True


class AmazonRequestError(AmazonError):
    """Amazon rejected the request itself (400/404/409...)."""


class AmazonDocumentError(AmazonError):
    """A report document could not be read (truncated gzip, charset...)."""


class AmazonOutOfTime(AmazonError):
    """The call would have to wait for quota past the caller's deadline
    (``SpApiClient.deadline``): nothing was sent, the caller continues later."""

    retryable = True

    def __init__(self, message, *, operation=None, wait=None, params=None):
        super().__init__(message, operation=operation, params=params)
        self.wait = wait
