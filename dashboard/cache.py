"""Caching of layer results: one place, keys built from everything that changes an answer.

flask-caching, configured from the settings: an in-process cache by default, Redis when
several gunicorn workers or hosts should share results. A key names the layer and every
parameter (the data version and the user's scope included), hashed so Redis keys stay
short. :meth:`LayerCache.get_or_compute` refuses parameters without a ``scope``: an answer
computed for one chief must never be found by another.

The cache deserialises what it stores (pickle, in Redis too): it must be private to the
app — a Redis that others can write to could make the app run their code.

**A cache that goes away.** When Redis cannot be reached the app keeps serving, uncached:
:class:`ResilientCache` says so once in the log, skips the cache for
:data:`RETRY_SECONDS` (so requests do not each wait on a dead server), then tries again;
the first call that succeeds says so once, and caching resumes — no restart.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask
from flask_caching import Cache

from dashboard.settings import Settings, SettingsError

T = TypeVar("T")

TIMEOUT_SECONDS = 600
KEY_PREFIX = "pnm:"
# After a failure the cache is left alone this long before the next attempt.
RETRY_SECONDS = 5.0
# Entries the in-process cache (no Redis) keeps before it drops some.
SIMPLE_THRESHOLD = 1000
# A Redis that does not answer within this is treated as gone (loopback answers in < 1 ms).
REDIS_TIMEOUT_SECONDS = 0.5
log = logging.getLogger(__name__)


def cache_config(settings: Settings) -> dict[str, Any]:
    """flask-caching configuration for ``settings``."""
    config: dict[str, Any] = {
        "CACHE_DEFAULT_TIMEOUT": TIMEOUT_SECONDS,
        "CACHE_KEY_PREFIX": KEY_PREFIX,
    }
    if settings.cache == "redis":
        config.update(
            CACHE_TYPE="RedisCache",
            CACHE_REDIS_URL=settings.redis_url,
            CACHE_OPTIONS={
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
            },
        )
    else:
        config.update(CACHE_TYPE="SimpleCache", CACHE_THRESHOLD=SIMPLE_THRESHOLD)
    return config


def cache_key(layer: str, /, **params: Any) -> str:
    """A stable key for ``layer`` computed with ``params`` (JSON-able values).

    The same parameters in any order give the same key; any change in any value gives a
    different one.
    """
    text = json.dumps(params, sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
    return f"{layer}:{digest}"


class ResilientCache:
    """A flask-caching cache that never raises: a failing backend reads as a miss.

    Parameters
    ----------
    cache : flask_caching.Cache
        The backend.
    retry_seconds : float, optional
        How long to leave a failed backend alone before trying it again (default
        :data:`RETRY_SECONDS`, read when the cache is made).
    clock : callable, optional
        Monotonic seconds (tests pass their own).
    """

    def __init__(
        self,
        cache: Cache,
        retry_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backend = cache
        self.retry_seconds = RETRY_SECONDS if retry_seconds is None else retry_seconds
        self._clock = clock
        self._down_since: float | None = None
        self._retry_at = 0.0
        self._lock = threading.Lock()

    @property
    def reachable(self) -> bool:
        """Whether the last call to the backend succeeded."""
        return self._down_since is None

    def _usable(self) -> bool:
        with self._lock:
            return self._down_since is None or self._clock() >= self._retry_at

    def _failed(self, exc: Exception) -> None:
        with self._lock:
            self._retry_at = self._clock() + self.retry_seconds
            if self._down_since is None:
                self._down_since = self._clock()
                log.warning(
                    "cache unreachable, serving uncached (retrying every %.0f s): %s",
                    self.retry_seconds,
                    exc,
                )

    def _worked(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            if self._down_since is not None:
                log.warning(
                    "cache reachable again after %.0f s, caching resumed",
                    self._clock() - self._down_since,
                )
                self._down_since = None

    def _guarded(self, call: Callable[[], Any], failed: Any) -> Any:
        """``call()`` on the backend unless it is being left alone; ``failed`` when it is,
        or when the call fails (then left alone for :attr:`retry_seconds`)."""
        if not self._usable():
            return failed
        try:
            out = call()
        except Exception as exc:  # any backend failure (connection refused, timeout)
            self._failed(exc)
            return failed
        self._worked()
        return out

    def get(self, key: str) -> Any:
        """The value under ``key``; None when absent or when the backend fails."""
        return self._guarded(lambda: self.backend.get(key), None)

    def set(self, key: str, value: Any, timeout: int | None = None) -> bool:
        """Keep ``value`` under ``key``; False when the backend fails (nothing raised)."""
        return bool(self._guarded(lambda: self.backend.set(key, value, timeout=timeout), False))

    def has(self, key: str) -> bool:
        """Whether ``key`` is stored, without reading its value (Redis ``EXISTS``); False
        when the backend fails."""
        return bool(self._guarded(lambda: self.backend.has(key), False))

    def touch(self, key: str, seconds: int) -> bool:
        """Keep ``key`` stored ``seconds`` more (Redis ``EXPIRE``): whether it is stored.

        Without Redis the expiry cannot be moved, so this only tells whether the key is
        stored (it expires as set). False when the backend fails."""
        client = self._redis()
        if client is None:
            return self.has(key)
        return bool(self._guarded(lambda: client.expire(f"{KEY_PREFIX}{key}", seconds), False))

    def _redis(self) -> Any:
        """The Redis client of the backend, None when it is not Redis."""
        return getattr(getattr(self.backend, "cache", None), "_write_client", None)

    def claim(self, key: str, seconds: int) -> bool:
        """Take ``key`` for ``seconds`` unless someone holds it (Redis ``SET NX EX``):
        whether this caller got it. Without Redis (one process) always True; a failing
        Redis gives False (nothing is shared then, so nothing is worth claiming)."""
        client = self._redis()
        if client is None:
            return True
        claim = f"{KEY_PREFIX}claim:{key}"
        return bool(self._guarded(lambda: client.set(claim, b"1", nx=True, ex=seconds), False))

    def release(self, key: str) -> None:
        """Give up the claim on ``key`` (:meth:`claim`), once its value is stored: a view
        evicted later may be claimed and computed again at once."""
        client = self._redis()
        if client is not None:
            self._guarded(lambda: client.delete(f"{KEY_PREFIX}claim:{key}"), None)

    def ping(self) -> bool:
        """Try the backend now (whatever the retry delay): whether it answers."""
        try:
            self.backend.get(f"{KEY_PREFIX}ping")
        except Exception as exc:
            self._failed(exc)
            return False
        self._worked()
        return True


class LayerCache:
    """The layer cache of one app.

    Parameters
    ----------
    server : flask.Flask
        The app's Flask server.
    settings : Settings
        Chooses the backend.

    Attributes
    ----------
    cache : ResilientCache
        The backend behind a guard that turns its failures into misses.
    kind : str
        ``simple`` or ``redis``.
    """

    def __init__(self, server: Flask, settings: Settings) -> None:
        if settings.cache == "redis" and importlib.util.find_spec("redis") is None:
            raise SettingsError("PNM_CACHE=redis needs the Python package redis installed")
        self.kind = settings.cache
        self.cache = ResilientCache(Cache(server, config=cache_config(settings)))

    def claim(self, key: str, seconds: int) -> bool:
        """Take the computation of ``key`` for ``seconds`` (see
        :meth:`ResilientCache.claim`): so two workers warming one Redis do not both
        compute a view."""
        try:
            return self.cache.claim(key, seconds)
        except Exception as exc:  # a replaced backend (tests)
            log.warning("cache failed, nothing claimed: %s", exc)
            return False

    def get_or_compute(self, layer: str, params: dict[str, Any], compute: Callable[[], T]) -> T:
        """The cached result for ``layer`` with ``params``, computed and stored if absent.

        ``params`` must hold ``scope`` (``"county"`` or the user's precincts, see
        :func:`dashboard.datasource.scope_key`). A cache that fails (Redis down) is
        skipped: the result is computed and served, just not kept (see
        :class:`ResilientCache`).
        """
        if not isinstance(params.get("scope"), str) or not params["scope"]:
            raise ValueError(f"cache key of {layer!r} lacks the user's scope: {sorted(params)}")
        key = cache_key(layer, **params)
        try:  # ResilientCache does not raise; a replaced backend (tests) might
            found = self.cache.get(key)
        except Exception as exc:
            log.warning("cache failed, serving uncached: %s", exc)
            return compute()
        if found is not None:
            return cast(T, found)
        value = compute()
        try:
            self.cache.set(key, value)
        except Exception as exc:
            log.warning("cache failed, result not kept: %s", exc)
        return value
