"""The wall page's settings and last status as its browser sends them back.

The wall's refresh callback gets its settings (``wall-config``) and the status it last
answered (``wall-status``) from stores in the page, so a request can carry anything in
them: they are read here strictly, and anything else than what the page itself writes
(:func:`dashboard.pages.wall.layout`, :func:`dashboard.pages.wall.status_of`) is refused
with :class:`BadWallInput` — the callback then answers no update, never a 500.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from dashboard.settings import LANGUAGES, WALL_VIEWS

MAX_TEXT = 4096
"""Longest text a status field may hold (a data version holds the directory's path)."""


class BadWallInput(ValueError):
    """A wall store holds something the page never writes."""


def _seconds(raw: dict[str, Any], key: str, default: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadWallInput(f"{key} is not a number")
    if not math.isfinite(value) or value <= 0:
        raise BadWallInput(f"{key} is not a positive number")
    return float(value)


def checked_config(raw: object) -> dict[str, Any]:
    """What the refresh reads of ``wall-config``: ``views`` (names of
    :data:`dashboard.settings.WALL_VIEWS`), ``lang``, ``refresh_s`` and ``stale_s``.

    Raises
    ------
    BadWallInput
        For anything but an object with those keys well typed (missing ones default).
    """
    if not isinstance(raw, dict):
        raise BadWallInput("wall-config is not an object")
    views = raw.get("views", [])
    if not isinstance(views, list) or not all(isinstance(v, str) for v in views):
        raise BadWallInput("views is not a list of names")
    unknown = [v for v in views if v not in WALL_VIEWS]
    if unknown:
        raise BadWallInput(f"unknown view(s) {unknown[:3]!r}")
    lang = raw.get("lang", "zh")
    if not isinstance(lang, str) or lang not in LANGUAGES:
        raise BadWallInput("lang is not a language of the app")
    return {
        "views": list(views),
        "lang": lang,
        "refresh_s": _seconds(raw, "refresh_s", 60.0),
        "stale_s": _seconds(raw, "stale_s", 3600.0),
    }


def checked_status(raw: object) -> dict[str, Any] | None:
    """What the refresh reads of ``wall-status`` (None: nothing shown yet): ``shown``
    (the data version), ``lang`` and ``built`` (ISO time).

    Raises
    ------
    BadWallInput
        For anything the page never writes there.
    """
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise BadWallInput("wall-status is not an object")
    out: dict[str, Any] = {}
    for key in ("shown", "lang", "built"):
        value = raw.get(key)
        if value is None:
            continue
        # A data version names the data directory's path: long, but bounded.
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise BadWallInput(f"{key} is not a text of at most {MAX_TEXT} characters")
        out[key] = value
    if "built" in out:
        try:
            dt.datetime.fromisoformat(out["built"])
        except ValueError:
            raise BadWallInput("built is not a time") from None
    return out
