"""The map page's controls turned into what the views need: the window (with playback),
the resolution and the snapped view bounds. Pure functions, so callbacks stay thin and
tests can call them without a browser."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dashboard.i18n import t
from dashboard.views import params_for, spec_of
from layers.registry import LayerParams
from layers.time_window import frames, window_of
from layers.viewport import Bounds, snap_bounds, zoom_to_res

# Average H3 hexagon edge length per resolution (H3 "Table of cell statistics").
EDGE_LENGTH: dict[int, str] = {
    6: "3.7 km",
    7: "1.4 km",
    8: "530 m",
    9: "200 m",
    10: "76 m",
    11: "29 m",
}
DEFAULT_ZOOM_RES = 7


@dataclass(frozen=True)
class Window:
    """The window the layer shows: the chosen one, or one playback frame of it."""

    since: pd.Timestamp
    until: pd.Timestamp
    frame: int  # -1 without playback
    frames: int  # 0 without playback

    @property
    def iso(self) -> tuple[str, str]:
        return self.since.isoformat(), self.until.isoformat()


def window(
    last_day: pd.Timestamp,
    *,
    preset: str | None,
    start_date: str | None = None,
    end_date: str | None = None,
    step: str | None = "off",
    frame: int | None = 0,
) -> Window:
    """The window of the controls; with a playback step, the frame ``frame`` of it."""
    try:
        since, until = window_of(
            preset or "30d", last_day=last_day, since=start_date, until=end_date
        )
    except ValueError:
        since, until = window_of("30d", last_day=last_day)
    if step not in ("day", "week"):
        return Window(since, until, -1, 0)
    parts = frames(since, until, step=step)
    i = min(max(int(frame or 0), 0), len(parts) - 1)
    return Window(parts[i][0], parts[i][1], i, len(parts))


def window_text(w: Window, lang: str) -> str:
    """The window's dates in words (the last day shown inclusive)."""
    last = (w.until - pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    first = w.since.strftime("%Y-%m-%d")
    if w.frame < 0:
        return t("window_range", lang, since=first, until=last)
    return t("frame_text", lang, i=w.frame + 1, n=w.frames, since=first, until=last)


def resolution(choice: object, zoom: float | None) -> tuple[int, bool]:
    """The resolution the controls ask for, and whether it follows the zoom."""
    try:
        res = int(choice)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return zoom_to_res(zoom, default=DEFAULT_ZOOM_RES), True
    if res in EDGE_LENGTH:
        return res, False
    return zoom_to_res(zoom, default=DEFAULT_ZOOM_RES), True


def res_text(res: int, automatic: bool, lang: str) -> str:
    key = "res_auto_text" if automatic else "res_fixed_text"
    return t(key, lang, res=res, edge=EDGE_LENGTH.get(res, "?"))


def view_bounds(bounds: Any, zoom: float | None, center: Any = None) -> Bounds | None:
    """The map's ``bounds`` prop snapped to the tile grid.

    A map opened on a shared URL's centre and zoom reports no bounds until it moves;
    then the view is taken as :data:`ASSUMED_VIEW_PX` around the centre (a superset of
    common screens). None when neither is known (the whole scope is sent).
    """
    box: Bounds | None
    try:
        (south, west), (north, east) = bounds
        box = (float(south), float(west), float(north), float(east))
    except (TypeError, ValueError):
        box = _around(center, zoom)
    if box is None:
        return None
    return snap_bounds(box, zoom=zoom if zoom is not None else 9)


# Width and height in pixels assumed for a view whose bounds the map has not reported.
ASSUMED_VIEW_PX = (2560, 1440)


def _around(center: Any, zoom: float | None) -> Bounds | None:
    try:
        lat, lng = (center["lat"], center["lng"]) if isinstance(center, dict) else center
        lat, lng, z = float(lat), float(lng), float(zoom)  # type: ignore[arg-type]
    except (TypeError, ValueError, KeyError):
        return None
    deg_per_px = 360.0 / (256 * 2**z)
    half_w = ASSUMED_VIEW_PX[0] / 2 * deg_per_px
    # Mercator: a pixel spans fewer degrees of latitude by cos(latitude).
    half_h = ASSUMED_VIEW_PX[1] / 2 * deg_per_px * math.cos(math.radians(lat))
    return (
        max(lat - half_h, -85.0),
        max(lng - half_w, -180.0),
        min(lat + half_h, 85.0),
        min(lng + half_w, 180.0),
    )


def layer_params(
    *,
    layer: str | None,
    w: Window,
    res: int,
    cats: list[str] | None,
    kinds: list[str] | None,
    band: str | None,
    fdr: bool = False,
) -> LayerParams:
    """The parameters of the chosen layer (filters it ignores blanked, resolution clamped)."""
    since, until = w.iso
    return params_for(
        spec_of(layer or "heat").id,
        res=res,
        since=since,
        until=until,
        cats=tuple(cats or ()),
        kinds=tuple(kinds or ()),
        band=band or "all",
        fdr=fdr,
    )


def playback_step(n_frames: int, value: int | None) -> tuple[int, bool]:
    """One tick of playback: the next frame, and whether to stop (at the last frame)."""
    nxt = min((value or 0) + 1, max(n_frames - 1, 0))
    return nxt, nxt >= n_frames - 1
