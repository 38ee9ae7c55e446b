"""Encryption at rest of seller secrets (LWA client secret, refresh token).

The key comes from the Odoo server configuration (``amazon_fbm_secret_key``,
a Fernet key) or, when that is unset, from a key file kept in the server's
data directory -- never from the database, so a database dump alone does not
reveal the secrets.
"""
import logging
import os

from cryptography.fernet import Fernet, InvalidToken

_logger = logging.getLogger(__name__)
PREFIX = "fernet:"


class SecretBox:
    def __init__(self, key):
        self._fernet = Fernet(key.encode() if isinstance(key, str) else key)

    def encrypt(self, plain):
        if not plain:
            return False
        return PREFIX + self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def decrypt(self, stored):
        if not stored:
            return False
        if not stored.startswith(PREFIX):
            raise ValueError("stored secret is not encrypted")
        try:
            return self._fernet.decrypt(stored[len(PREFIX):].encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise ValueError(
                "the secret was encrypted with another key: set the same "
                "amazon_fbm_secret_key on every Odoo server, or enter the secret again"
            ) from exc


def key_from_config(config_key, data_dir):
    """The configured key, or the key file of the data directory (created once)."""
    if config_key:
        return config_key
    path = os.path.join(data_dir, "amazon_fbm_connector", "secret.key")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        key = Fernet.generate_key()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        _logger.warning(
            "amazon_fbm_secret_key is not set in the Odoo configuration: generated a key "
            "file in the data directory. Copy it to every server of this database."
        )
    with open(path, "rb") as fh:
        return fh.read().strip()
