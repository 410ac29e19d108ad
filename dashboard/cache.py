"""Caching of layer results: one place, keys built from everything that changes an answer.

flask-caching, configured from the settings: an in-process cache by default, Redis when
several gunicorn workers or hosts should share results. A key names the layer and every
parameter (the data version and the user's scope included), hashed so Redis keys stay
short. :meth:`LayerCache.get_or_compute` refuses parameters without a ``scope``: an answer
computed for one chief must never be found by another.

The cache deserialises what it stores (pickle, in Redis too): it must be private to the
app — a Redis that others can write to could make the app run their code. When the cache
cannot be reached the app keeps serving, uncached.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask
from flask_caching import Cache

from dashboard.settings import Settings, SettingsError

T = TypeVar("T")

TIMEOUT_SECONDS = 600
KEY_PREFIX = "pnm:"
log = logging.getLogger(__name__)


def cache_config(settings: Settings) -> dict[str, Any]:
    """flask-caching configuration for ``settings``."""
    config: dict[str, Any] = {
        "CACHE_DEFAULT_TIMEOUT": TIMEOUT_SECONDS,
        "CACHE_KEY_PREFIX": KEY_PREFIX,
    }
    if settings.cache == "redis":
        config.update(CACHE_TYPE="RedisCache", CACHE_REDIS_URL=settings.redis_url)
    else:
        config.update(CACHE_TYPE="SimpleCache", CACHE_THRESHOLD=1000)
    return config


def cache_key(layer: str, /, **params: Any) -> str:
    """A stable key for ``layer`` computed with ``params`` (JSON-able values).

    The same parameters in any order give the same key; any change in any value gives a
    different one.
    """
    text = json.dumps(params, sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
    return f"{layer}:{digest}"


class LayerCache:
    """The layer cache of one app.

    Parameters
    ----------
    server : flask.Flask
        The app's Flask server.
    settings : Settings
        Chooses the backend.
    """

    def __init__(self, server: Flask, settings: Settings) -> None:
        if settings.cache == "redis" and importlib.util.find_spec("redis") is None:
            raise SettingsError("PNM_CACHE=redis needs the Python package redis installed")
        self.cache = Cache(server, config=cache_config(settings))

    def get_or_compute(self, layer: str, params: dict[str, Any], compute: Callable[[], T]) -> T:
        """The cached result for ``layer`` with ``params``, computed and stored if absent.

        ``params`` must hold ``scope`` (``"county"`` or the user's precincts, see
        :func:`dashboard.datasource.scope_key`). A cache that fails (Redis down) is
        skipped: the result is computed and served, just not kept.
        """
        if not isinstance(params.get("scope"), str) or not params["scope"]:
            raise ValueError(f"cache key of {layer!r} lacks the user's scope: {sorted(params)}")
        key = cache_key(layer, **params)
        try:
            found = self.cache.get(key)
        except Exception as exc:  # any backend failure: serve uncached
            log.warning("cache unreachable, serving uncached: %s", exc)
            return compute()
        if found is not None:
            return found
        value = compute()
        try:
            self.cache.set(key, value)
        except Exception as exc:  # any backend failure: do not keep it
            log.warning("cache unreachable, result not kept: %s", exc)
        return value
