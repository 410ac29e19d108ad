"""Fixtures of the production tests: a tiny data directory per test, a private Redis,
and an app (auth off) whose callbacks are posted as the browser posts them."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from benchmarks.load import LAYER, ROUTE, Callbacks, find_props, free_port
from dashboard.views.warm import Warmer
from tests.dashboard.tiny_data import build_tiny_data


@pytest.fixture(autouse=True, scope="session")
def _no_background_warm_up() -> Iterator[None]:
    """Apps built here do not start the cache warm-up thread (its entries would mix with
    the ones a test counts); tests/dashboard/test_warm.py tests the warm-up itself."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Warmer, "start", lambda self: None)
        yield


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A fresh tiny data directory (tests damage and rebuild it)."""
    return build_tiny_data(tmp_path / "data")


def _redis_cli(port: int, *args: str) -> str:
    return subprocess.run(
        ["redis-cli", "-p", str(port), *args], capture_output=True, text=True, check=False
    ).stdout.strip()


class PrivateRedis:
    """A memory-only redis-server on a loopback port of its own, started and stopped."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/15"

    def start(self) -> None:
        subprocess.run(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "yes"],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        self._wait(up=True)

    def stop(self) -> None:
        _redis_cli(self.port, "shutdown", "nosave")
        self._wait(up=False)

    def keys(self, pattern: str = "pnm:*") -> list[str]:
        out = _redis_cli(self.port, "-n", "15", "--scan", "--pattern", pattern)
        return [k for k in out.splitlines() if k]

    def _wait(self, *, up: bool) -> None:
        deadline = time.monotonic() + 10
        while (_redis_cli(self.port, "ping") == "PONG") != up:
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis on {self.port} did not {'start' if up else 'stop'}")
            time.sleep(0.05)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A private Redis, shut down after the test (never the machine's shared one)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        _redis_cli(server.port, "shutdown", "nosave")


PG_BIN = Path("/usr/lib/postgresql/15/bin")


class PrivatePostgres:
    """A PostgreSQL cluster of its own (``initdb`` in a temporary folder, its own port,
    its socket in that folder), started and stopped by the test: the machine's shared
    server is never touched. Runs as the ``postgres`` user when the tests run as root
    (PostgreSQL refuses to run as root)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="pnm-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.dsn = f"host=127.0.0.1 port={self.port} dbname=postgres user=postgres"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.dir, user="postgres", group="postgres")
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "-A", "trust", "--no-sync", "-E", "UTF8")  # fmt: skip

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as, *args], check=True, capture_output=True, cwd=self.dir)

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off"
        )
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options,
                  "-l", str(self.log), "-w", "-t", "60", "start")  # fmt: skip

    def stop(self) -> None:
        """A fast shutdown: sessions are ended (their transactions rolled back)."""
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def running(self) -> bool:
        status = subprocess.run(
            [*self._as, str(PG_BIN / "pg_ctl"), "-D", str(self.data), "status"],
            capture_output=True, check=False, cwd=self.dir,
        )  # fmt: skip
        return status.returncode == 0

    def remove(self) -> None:
        if self.running:
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A private PostgreSQL (with PostGIS available), removed after the test."""
    if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None:
        pytest.skip("PostgreSQL 15 server binaries are not installed")
    server = PrivatePostgres()
    try:
        server.start()
        yield server
    finally:
        server.remove()


class Browser:
    """Posts the map's callbacks to an app's test client as Dash's renderer does."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        deps = client.get("/_dash-dependencies").get_json()
        self.callbacks = Callbacks({d["output"]: d for d in deps})

    def page(self, path: str = "/") -> tuple[int, dict[str, Any]]:
        """Status and response of the route callback for ``path``."""
        body = self.callbacks.payload(
            ROUTE, {"url.pathname": path, "url.search": ""}, ["url.pathname"]
        )
        r = self.client.post("/_dash-update-component", json=body)
        return r.status_code, (r.get_json() or {}).get("response", {})

    def layer(self, layer: str = "heat") -> tuple[int, dict[str, Any]]:
        """Status and response of the map's data callback for ``layer``."""
        status, response = self.page("/")
        assert status == 200
        props = find_props(response["page"]["children"])
        values = {f"{c}.{k}": v for c, p in props.items() for k, v in p.items() if k != "children"}
        values.update({"layer-choice.value": layer, "map.zoom": 12, "page-lang.data": "zh"})
        body = self.callbacks.payload(LAYER, values, ["layer-choice.value"])
        r = self.client.post("/_dash-update-component", json=body)
        return r.status_code, (r.get_json() or {}).get("response", {})
