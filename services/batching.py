"""Batch commits of the import flows."""
import threading


def commit(env):
    """Commit a finished batch, so a killed worker loses at most the next one.

    Not inside tests, which own their transaction (Odoo marks the test thread)."""
    if not in_test_thread():
        env.cr.commit()


def in_test_thread():
    return bool(getattr(threading.current_thread(), "testing", False))
