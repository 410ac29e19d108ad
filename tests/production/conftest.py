"""Fixtures of the production tests: a tiny data directory per test, a private Redis,
and an app (auth off) whose callbacks are posted as the browser posts them."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from benchmarks.load import LAYER, ROUTE, Callbacks, find_props, free_port
from tests.dashboard.tiny_data import build_tiny_data


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
