"""The servers suite: real ``odoo-bin`` server processes with cron threads on one
database, against the SP-API emulator on loopback.

tools/test.sh runs it after the Odoo suite and hands it, through the
environment, a database with the addon installed (AMAZON_FBM_SERVERS_DB), the
Odoo configuration (AMAZON_FBM_ODOO_CONF), odoo-bin and its Python. Each test
works on copies of one seeded database and drops them.
"""
import json
import os
import signal
import subprocess
import sys
import time

import psycopg2
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tools.spapi_emulator import Emulator, Scenario  # noqa: E402

REQUIRED = ("AMAZON_FBM_SERVERS_DB", "AMAZON_FBM_ODOO_CONF", "AMAZON_FBM_ODOO_BIN", "AMAZON_FBM_DATA_DIR")
SKUS = ["SKU-%04d" % n for n in range(1, 41)]
US = "ATVPDKIKX0DER"
RATE_SCALE = 1000.0


def pytest_collection_modifyitems(config, items):
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if missing:
        skip = pytest.mark.skip(reason="run by tools/test.sh (needs %s)" % ", ".join(missing))
        for item in items:
            item.add_marker(skip)


def _odoo_env():
    """The servers' environment: their Python's directory first on PATH, because
    Odoo's reload re-executes ``python`` as found there (``server._reexec``)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    return env


def _odoo_cmd(*args, command=()):
    return [sys.executable, os.environ["AMAZON_FBM_ODOO_BIN"], *command, "-c", os.environ["AMAZON_FBM_ODOO_CONF"],
            *args]


class Database:
    """A copy of a database, its filestore included."""

    def __init__(self, name):
        self.name = name

    @classmethod
    def copy_of(cls, template, name):
        subprocess.run(["dropdb", "--if-exists", name], check=True, capture_output=True)
        subprocess.run(["createdb", "-T", template, name], check=True, capture_output=True)
        store = os.path.join(os.environ["AMAZON_FBM_DATA_DIR"], "filestore")
        if os.path.isdir(os.path.join(store, template)):
            subprocess.run(["cp", "-r", os.path.join(store, template), os.path.join(store, name)], check=True)
        return cls(name)

    def query(self, sql, params=None):
        with psycopg2.connect(dbname=self.name) as connection, connection.cursor() as cr:
            cr.execute(sql, params)
            return cr.fetchall() if cr.description else None

    def value(self, sql, params=None):
        return self.query(sql, params)[0][0]

    def drop(self):
        subprocess.run(["dropdb", "--if-exists", "--force", self.name], capture_output=True)
        subprocess.run(["rm", "-rf", os.path.join(os.environ["AMAZON_FBM_DATA_DIR"], "filestore", self.name)])


class Server:
    """One ``odoo-bin`` process: HTTP on a free port and two cron threads."""

    def __init__(self, db, tag, log_dir):
        self.db, self.tag = db, tag
        self.log_path = os.path.join(log_dir, "%s-%s.log" % (db.name, tag))
        self.log = open(self.log_path, "ab")  # noqa: SIM115  (closed in stop)
        self.process = subprocess.Popen(
            _odoo_cmd("-d", db.name, "--db-filter", "^%s$" % db.name, "--http-port", "0",
                      "--max-cron-threads", "2", "--log-level", "info", "--no-database-list"),
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True, env=_odoo_env())

    @property
    def pid(self):
        return self.process.pid

    def text(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return log.read()

    def wait_ready(self, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("server %s exited (%s):\n%s" % (self.tag, self.process.returncode,
                                                                     self.text()[-3000:]))
            if "Modules loaded." in self.text() or "Registry loaded in" in self.text():
                return
            time.sleep(0.3)
        raise AssertionError("server %s not ready in %ss:\n%s" % (self.tag, timeout, self.text()[-3000:]))

    def kill9(self):
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.log.close()

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        if not self.log.closed:
            self.log.close()


def wake_crons(db):
    """What Odoo's own ``_trigger`` sends: cron threads poll the database now. Odoo's
    cron threads LISTEN on the ``postgres`` database, where the NOTIFY must go."""
    with psycopg2.connect(dbname="postgres") as connection, connection.cursor() as cr:
        cr.execute("NOTIFY cron_trigger, %s", (db.name,))


@pytest.fixture(scope="session")
def scenario():
    # 2,000 shipped orders for the queues and ~300 unshipped ones for the report.
    return Scenario.generate(2300, seed=2000, shipped_ratio=0.87)


@pytest.fixture(scope="session")
def emulator(scenario):
    with Emulator(scenario, rate_scale=RATE_SCALE) as emu:
        yield emu


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("servers"))


@pytest.fixture(scope="session")
def seed(emulator, log_dir):
    """The database every test copies: seller, 2,000 queued orders, one Done report."""
    db = Database.copy_of(os.environ["AMAZON_FBM_SERVERS_DB"], os.environ["AMAZON_FBM_SERVERS_DB"] + "_seed")
    client_id, secret = next(iter(emulator.apps.items()))
    settings = {"url": emulator.url, "client_id": client_id, "client_secret": secret,
                "refresh_token": next(iter(emulator.refresh_tokens)), "rate_scale": RATE_SCALE,
                "skus": SKUS, "queue_size": 50}
    with open(os.path.join(os.path.dirname(__file__), "seed_setup.py"), "rb") as script:
        done = subprocess.run(_odoo_cmd("-d", db.name, "--log-level", "warn", "--no-http", command=["shell"]),
                              stdin=script, capture_output=True, timeout=600,
                              env=dict(os.environ, AMAZON_FBM_SEED=json.dumps(settings)))
    out = done.stdout.decode(errors="replace")
    lines = [line for line in out.splitlines() if line.startswith("SEED ")]
    assert done.returncode == 0 and lines, out[-3000:] + done.stderr.decode(errors="replace")[-3000:]
    info = json.loads(lines[-1][5:])
    info["db"] = db
    yield info
    db.drop()
