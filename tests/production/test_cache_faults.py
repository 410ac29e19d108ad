"""The cache that goes away: logged once, skipped, resumed by itself."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from dashboard import cache as cache_module
from dashboard.app import create_app
from dashboard.cache import ResilientCache
from dashboard.settings import load_settings
from tests.production.conftest import Browser, PrivateRedis


class FlakyBackend:
    """A dict that raises ConnectionError while ``down``; counts the calls it gets."""

    def __init__(self) -> None:
        self.down = False
        self.calls = 0
        self.data: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        self.calls += 1
        if self.down:
            raise ConnectionError("refused")
        return self.data.get(key)

    def set(self, key: str, value: Any, timeout: int | None = None) -> bool:
        self.calls += 1
        if self.down:
            raise ConnectionError("refused")
        self.data[key] = value
        return True


def test_a_dead_backend_is_logged_once_left_alone_then_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backend, now = FlakyBackend(), [100.0]
    cache = ResilientCache(backend, retry_seconds=5.0, clock=lambda: now[0])  # type: ignore[arg-type]
    assert cache.set("k", 1) and cache.get("k") == 1
    backend.down = True
    with caplog.at_level(logging.WARNING, logger="dashboard.cache"):
        assert cache.get("k") is None  # the failure: a miss, not an exception
        calls = backend.calls
        for _ in range(10):  # within the 5 s: the backend is not even asked
            assert cache.get("k") is None
            assert cache.set("k", 2) is False
        assert backend.calls == calls
        now[0] += 5.0  # the delay has passed: asked again, still down, not logged again
        assert cache.get("k") is None
        assert backend.calls == calls + 1
        assert not cache.reachable
        backend.down = False
        now[0] += 5.0
        assert cache.get("k") == 1 and cache.reachable
    messages = [r.getMessage() for r in caplog.records]
    assert sum("unreachable" in m for m in messages) == 1
    assert sum("reachable again" in m for m in messages) == 1


@pytest.mark.cache
def test_redis_stopped_mid_run_the_map_keeps_answering_and_caching_resumes(
    tiny: Path,
    private_redis: PrivateRedis,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(cache_module, "RETRY_SECONDS", 0.0)  # retry at every request
    settings = load_settings(
        {}, data_dir=str(tiny), auth="none", cache="redis", redis_url=private_redis.url
    )
    browser = Browser(create_app(settings).server.test_client())
    status, first = browser.layer("heat")
    assert status == 200 and "hex-data" in first
    assert private_redis.keys(), "nothing was cached in Redis"

    private_redis.stop()
    with caplog.at_level(logging.WARNING, logger="dashboard.cache"):
        for layer in ("heat", "heat", "heat"):
            status, response = browser.layer(layer)
            assert status == 200
            assert response["hex-data"] == first["hex-data"]  # the same answer, uncached
        health = browser.client.get("/healthz")
        assert health.status_code == 200
        assert health.get_json()["cache"] == {"kind": "redis", "reachable": False}
        assert health.get_json()["status"] == "degraded"
    assert sum("unreachable" in r.getMessage() for r in caplog.records) == 1

    private_redis.start()  # empty: --save ''
    assert private_redis.keys() == []
    status, response = browser.layer("heat")
    assert status == 200 and response["hex-data"] == first["hex-data"]
    assert private_redis.keys(), "caching did not resume after Redis came back"
    assert browser.client.get("/healthz").get_json()["cache"]["reachable"] is True
