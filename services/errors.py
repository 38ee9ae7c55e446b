"""Typed errors of the SP-API layer, with messages a seller can act on."""


class AmazonError(Exception):
    """Base error; ``str(error)`` is meant for the seller."""

    retryable = False

    def __init__(self, message, *, operation=None, status=None, amazon_code=None):
        super().__init__(message)
        self.operation = operation
        self.status = status
        self.amazon_code = amazon_code


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

    def __init__(self, message, *, operation=None, wait=None):
        super().__init__(message, operation=operation)
        self.wait = wait
