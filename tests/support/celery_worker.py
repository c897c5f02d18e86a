"""Real Celery workers for integration tests: a Redis server and `celery -A config worker -B`
subprocesses on the test database, and a deadline-bound wait that polls instead of sleeping.

The workers run with tests/support/settings_celery_worker.py (a short claim and a sweeper
every second) against the database of the test that starts them, which must therefore commit its
rows (`django_db(transaction=True)` or the live server's database).
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from django.db import connection
from kombu import pools as kombu_pools

from config.celery import app as celery_app
from core.db.servers import database_url

REPO = Path(__file__).resolve().parents[2]
POLL_SECONDS = 0.1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        threading.Event().wait(POLL_SECONDS)


class RedisServer:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _accepts(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._accepts, timeout=10, what="redis-server to listen")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


class Workers:
    """Celery worker subprocesses, each in its own process group so SIGKILL takes its pool and
    embedded beat with it."""

    def __init__(self, *, broker_url: str, directory: Path) -> None:
        db = connection.settings_dict
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.support.settings_celery_worker",
            "DATABASE_URL": database_url(db, name=db["NAME"]),
            "CELERY_BROKER_URL": broker_url,
            "PYTHONPATH": str(REPO),
        }
        self.directory = directory
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str) -> None:
        log = (self.directory / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-B",
                "-s",
                str(self.directory / f"beat-{name}"),
                "-P",
                "prefork",
                "-c",
                "4",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "WARNING",
                "-n",
                f"{name}@forwarding-test",
            ],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def kill_all(self) -> None:
        for name in list(self.processes):
            try:
                self.kill(name)
            except ProcessLookupError:
                self.processes.pop(name, None)


def celery_broker_point(url: str) -> str:
    """Point this process's Celery app at another broker; returns the previous URL.

    The connection and producer pools are dropped so the next publish connects anew (Celery's
    `close()` would also deregister the app). The environment variable, which Celery
    prefers to its own setting, follows when it is set (scripts/test and CI set it).
    """
    previous = celery_app.conf.broker_url
    celery_app.conf.broker_url = url
    # Celery reads the CELERY_BROKER_URL environment variable before its own setting.
    if "CELERY_BROKER_URL" in os.environ:
        os.environ["CELERY_BROKER_URL"] = url
    # kombu keeps one pool per broker in process-wide groups: closing the app's pool alone would
    # leave a closed pool there for the next publish to the same URL ("Acquire on closed pool").
    kombu_pools.reset()
    celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
    return previous
