"""``/healthz``: whether this worker can serve, for a load balancer and an operator.

No sign-in needed and no personal data. Without a signed-in user the answer is the
status and the data version only (a load balancer needs no more); a signed-in user also
gets the app's version, when the cubes were built and the newest hour of data they hold,
which store and cache are used and whether each answers, and this worker's warm-up (its
process id and counts). 200 when the app can serve its current data (a cache that is down only
makes it slower: ``status`` is then ``degraded``); 503 when the data on disk cannot be
served (cubes missing or damaged — the app keeps showing its last good copy, with a
banner, until the cubes are rebuilt).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from dash import html
from flask import Flask, Response, jsonify

from dashboard.auth import current_user
from dashboard.cache import LayerCache
from dashboard.datasource import ReloadingSource, check_cubes, check_data_dir
from dashboard.views.wall.versions import built_at
from dashboard.views.warm import Warmer
from geodata.limits import now_cst

PATH = "/healthz"
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
BANNER_TEXT = {"zh": "数据不完整", "en": "data incomplete"}


@cache
def app_version() -> str:
    """The project's version from ``pyproject.toml`` (``unknown`` if unreadable)."""
    try:
        return str(tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def _iso(when: Any) -> str | None:
    if when is None:
        return None
    if isinstance(when, dt.datetime):  # pandas.Timestamp included
        return when.isoformat(timespec="seconds")
    return str(when)


def health(
    source: ReloadingSource, cache: LayerCache, warmer: Warmer | None = None
) -> tuple[dict[str, Any], int]:
    """The health report and its HTTP status.

    Parameters
    ----------
    source : ReloadingSource
        The app's live data source (looked at now, not at its next scheduled check).
    cache : LayerCache
        The app's cache (pinged now).
    warmer : Warmer, optional
        The cache warm-up of this worker (None when it is off).

    Returns
    -------
    report : dict
        ``status`` (``ok``, ``degraded`` or ``unavailable``), ``version``, ``data``
        (``built_at``, ``newest``, ``version``, ``problem``), ``store``, ``cache`` and
        ``warm`` (this worker's warm-up: ``state`` ``off``, ``waiting``, ``running``,
        ``done`` or ``stopped``, views computed, seconds). A warm-up under way does not
        change the status: the app serves meanwhile, only slower for views not warm yet.
    code : int
        200 or 503.
    """
    source.refresh()
    current = source.current
    data_dir = current.data_dir
    problem = source.problem
    store_ok = True
    try:
        check_data_dir(data_dir)
        check_cubes(data_dir)
    except Exception as exc:  # the store on disk is not servable now
        store_ok = False
        problem = problem or str(exc)
    cache_ok = cache.cache.ping()
    hours = current.incident_cube["hour"]
    past = hours[hours <= now_cst()]  # a row dated 2099 is not the newest data
    newest = past.max() if len(past) else None
    report = {
        "status": "ok",
        "version": app_version(),
        "data": {
            "built_at": _iso(built_at(data_dir)),
            "newest": _iso(newest),
            "version": source.stamp,
            "reloads": source.reloads,
            # New data opened, held back until their views are warm (PNM_SWITCH_WAIT).
            "pending": source.pending is not None,
            "problem": "data incomplete" if problem else None,
        },
        "store": {"kind": "files", "reachable": store_ok},
        "cache": {"kind": cache.kind, "reachable": cache_ok},
        "warm": {"state": "off"} if warmer is None else warmer.report.as_dict(),
    }
    if problem or not store_ok:
        report["status"] = "unavailable"
        return report, 503
    if not cache_ok:
        report["status"] = "degraded"
    return report, 200


def public_report(report: dict[str, Any]) -> dict[str, Any]:
    """What anybody may read of a health report: the status and the data version."""
    return {"status": report["status"], "data": {"version": report["data"]["version"]}}


def install(
    server: Flask, source: ReloadingSource, cache: LayerCache, warmer: Warmer | None = None
) -> None:
    """Register :data:`PATH` on ``server`` (the auth guard lets it through unsigned)."""

    def _healthz() -> Response:
        report, code = health(source, cache, warmer)
        if current_user() is None:  # nobody signed in: nothing about this worker
            report = public_report(report)
        response = jsonify(report)
        response.status_code = code
        response.headers["Cache-Control"] = "no-store"
        return response

    server.add_url_rule(PATH, "pnm_healthz", _healthz, methods=["GET"])


def data_banner(source: ReloadingSource, lang: str) -> html.Div | None:
    """The "data incomplete" banner when the data on disk cannot be served (the page
    then shows the last good data); None otherwise."""
    if source.problem is None:
        return None
    other = "en" if lang == "zh" else "zh"
    return html.Div(
        f"{BANNER_TEXT[lang]} / {BANNER_TEXT[other]}",
        className="pnm-banner pnm-data-incomplete",
        role="alert",
    )


__all__ = ["PATH", "app_version", "data_banner", "health", "install", "public_report"]
