"""The whole view of the map as one value, to and from the URL's query string.

A chief sends a link; whoever opens it lands on the same layer, filters, window, place,
zoom and selected cell. Every field has a default and every value read from a URL is
checked: an edited or truncated link opens a sensible view, never an error page.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

from geodata.schema import INCIDENT_CATEGORIES, UNIT_KINDS
from layers.time_window import BANDS, PRESETS

LAYER_IDS = (
    *("heat", "rate", "hotspots", "emerging", "mom", "yoy", "community", "reach", "patrol"),
    *("koper", "gaps"),
)
SCHEMES = ("natural_breaks", "quantiles", "equal_interval")
PLAY_STEPS = ("off", "day", "week")
RESOLUTIONS = (7, 8, 9, 10, 11)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CELL = re.compile(r"^[0-9a-f]{15}$")


@dataclass(frozen=True)
class ViewState:
    """What the map shows.

    Attributes
    ----------
    layer : str
        One of :data:`LAYER_IDS`.
    window : str
        A preset of :data:`layers.time_window.PRESETS`; ``since``/``until`` (YYYY-MM-DD)
        hold a custom window's first and last day.
    cats, kinds : tuple of str
        Incident categories and patrol unit kinds; empty means all.
    band : str
        Time-of-day band (``all`` or a key of :data:`layers.time_window.BANDS`).
    res : str
        ``auto`` (follows the zoom) or a resolution as text ("9").
    scheme : str
        Classification scheme of numeric layers.
    step, frame : str, int
        Playback: ``off``, ``day`` or ``week``, and the frame shown.
    lat, lng, zoom : float or None
        The map's centre and zoom; None opens on the whole area.
    cell : str
        The selected cell (H3 id) or "".
    lang : str
        ``zh`` or ``en``.
    """

    layer: str = "heat"
    window: str = "30d"
    since: str = ""
    until: str = ""
    cats: tuple[str, ...] = field(default_factory=tuple)
    kinds: tuple[str, ...] = field(default_factory=tuple)
    band: str = "all"
    fdr: bool = False
    res: str = "auto"
    scheme: str = "natural_breaks"
    step: str = "off"
    frame: int = 0
    lat: float | None = None
    lng: float | None = None
    zoom: float | None = None
    cell: str = ""
    lang: str = "zh"

    def to_query(self) -> str:
        """The query string (with ``?``) holding every field that differs from the default."""
        default = ViewState(lang="")
        pairs: list[tuple[str, str]] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value == getattr(default, f.name) or value is None:
                continue
            if isinstance(value, bool):
                text = "1" if value else "0"
            elif isinstance(value, tuple):
                text = ",".join(value)
            elif isinstance(value, float):
                text = f"{value:.5f}".rstrip("0").rstrip(".") if f.name != "zoom" else f"{value:g}"
            else:
                text = str(value)
            pairs.append((f.name, text))
        return "?" + urlencode(pairs, safe=",") if pairs else ""

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able fields (tuples as lists), e.g. for a ``dcc.Store``."""
        out = asdict(self)
        out["cats"], out["kinds"] = list(self.cats), list(self.kinds)
        return out


def _float(text: str, low: float, high: float) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if low <= value <= high else None


def _codes(text: str, known: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sorted({c for c in text.split(",") if c in known}))


def from_query(search: str | None, *, default_lang: str = "zh") -> ViewState:
    """Read a view from a query string; unknown keys are ignored, bad values take defaults."""
    query = dict(parse_qsl((search or "").lstrip("?")))
    s = ViewState(lang=default_lang)
    changes: dict[str, Any] = {}
    if query.get("layer") in LAYER_IDS:
        changes["layer"] = query["layer"]
    if query.get("window") in PRESETS:
        changes["window"] = query["window"]
    for key in ("since", "until"):
        if DATE.match(query.get(key, "")):
            changes[key] = query[key]
    if "cats" in query:
        changes["cats"] = _codes(query["cats"], INCIDENT_CATEGORIES)
    if "kinds" in query:
        changes["kinds"] = _codes(query["kinds"], UNIT_KINDS)
    if query.get("band") in BANDS:
        changes["band"] = query["band"]
    if query.get("fdr") == "1":
        changes["fdr"] = True
    if query.get("res", "").isdigit() and int(query["res"]) in RESOLUTIONS:
        changes["res"] = query["res"]
    if query.get("scheme") in SCHEMES:
        changes["scheme"] = query["scheme"]
    if query.get("step") in PLAY_STEPS:
        changes["step"] = query["step"]
    if query.get("frame", "").isdigit():
        changes["frame"] = min(int(query["frame"]), 10_000)
    lat, lng = _float(query.get("lat", ""), -90, 90), _float(query.get("lng", ""), -180, 180)
    zoom = _float(query.get("zoom", ""), 0, 20)
    if lat is not None and lng is not None and zoom is not None:
        changes.update(lat=lat, lng=lng, zoom=zoom)
    if CELL.match(query.get("cell", "")):
        changes["cell"] = query["cell"]
    if query.get("lang") in ("zh", "en"):
        changes["lang"] = query["lang"]
    return replace(s, **changes)
