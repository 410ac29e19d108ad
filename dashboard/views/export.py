"""What a planner asks the export page for, read from a URL and checked.

:class:`ExportRequest` is the whole choice — layers, resolution, area, window, filters,
coordinate system, format — as one value that travels in a query string: the map's
"export this view" link opens the page pre-filled from the map's own query
(:func:`request_from_query`), and the download link carries the request back to the
server (:meth:`ExportRequest.to_query`), where it is read strictly and checked again
against the signed-in user's scope (:mod:`dashboard.views.export_area`). Building and
writing the files is :mod:`dashboard.views.export_files`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode

import pandas as pd

from dashboard import pagestate, viewstate
from dashboard.i18n import t
from dashboard.views import LAYERS as MAP_LAYERS
from geodata.schema import INCIDENT_CATEGORIES, UNIT_KINDS
from geodata.writers import CRS_CHOICES, FORMATS
from layers.classify import SCHEMES
from layers.export import LAYERS, RESOLUTIONS, resolutions_of
from layers.export import MAP_TO_EXPORT as LAYER_OF_MAP
from layers.time_window import BANDS, PRESETS, window_of
from layers.viewport import Bounds, zoom_to_res

Scope = frozenset[str] | None
"""The precinct ids a user may see; None for the whole county."""

AREAS: Final = ("county", "precincts", "grids", "view")
EXPORT_ONLY: Final = frozenset({"area", "precincts", "grids", "crs", "fmt"})
"""Query keys of the export that a map query may also carry (the others are the map's)."""
DEFAULT_RES: Final = 8

# The map's layer of each export (whose resolutions and filters it takes), and the export
# of each map layer: from the export's list, which is the registry's (layers.export.derived).
EXPORT_TO_MAP: Final[dict[str, str]] = {name: spec.map_layer for name, spec in LAYERS.items()}
MAP_TO_EXPORT: Final[dict[str, str]] = dict(LAYER_OF_MAP)


def _layers_with(name: str) -> frozenset[str]:
    """The exportable layers whose map layer takes the filter ``name`` (the registry's
    :attr:`~layers.registry.LayerSpec.filters` say which): the file is filtered as the
    map is."""
    return frozenset(n for n, m in EXPORT_TO_MAP.items() if name in MAP_LAYERS[m].filters)


CATEGORY_LAYERS: Final = _layers_with("cats")
BAND_LAYERS: Final = _layers_with("band")
KIND_LAYERS: Final = _layers_with("kinds")
FDR_LAYERS: Final = _layers_with("fdr")
SCHEME_LAYERS: Final = frozenset({"incidents"})
# A map link without bounds (edited by hand) is taken as a common screen around its centre.
ASSUMED_VIEW_PX: Final = (1920, 1080)


def max_res(layer: str) -> int:
    """The finest resolution offered for ``layer``: the finest the map draws it at."""
    return resolutions_of(layer)[-1]


def min_res(layer: str) -> int:
    """The coarsest resolution offered for ``layer`` (a layer the registry computes: the
    coarsest the map draws it at)."""
    return resolutions_of(layer)[0]


class ExportProblem(ValueError):
    """A choice that cannot be exported, said in the page's language.

    Parameters
    ----------
    key : str
        A label of :data:`dashboard.i18n.TEXT`.
    status : int
        HTTP status for the download route (400 a bad request, 403 out of scope, 404
        nothing to export, 503 not logged).
    **values
        Fields of the label.
    """

    def __init__(self, key: str, *, status: int = 400, **values: object) -> None:
        super().__init__(f"{key}: {values}")
        self.key = key
        self.status = status
        self.values = values

    def text(self, lang: str) -> str:
        """The message in ``lang``."""
        return t(self.key, lang, **self.values)


@dataclass(frozen=True)
class ExportRequest:
    """One export, as the page's controls and the download URL describe it.

    Attributes
    ----------
    layers : tuple of str
        Keys of :data:`layers.export.LAYERS`.
    res : int
        H3 resolution.
    area : str
        One of :data:`AREAS`: the county (or, for a scoped user, their precincts), chosen
        precincts, chosen grids, or the map view ``bbox``.
    precincts, grids : tuple of str
        The chosen ids (for ``area`` "precincts" / "grids").
    bbox : tuple of float or None
        ``(south, west, north, east)`` of the map view.
    window, since, until : str
        A preset of :data:`layers.time_window.PRESETS`; a custom window's first and last
        day (YYYY-MM-DD, both included), as on the map.
    cats : tuple of str
        Incident categories (incidents, hot spots); empty means all.
    kinds : tuple of str
        Patrol unit kinds (patrol coverage); empty means all.
    band : str
        Time-of-day band of incidents and patrols (``all`` or a key of
        :data:`layers.time_window.BANDS`), as the map's band filter.
    fdr : bool
        Hot spots with the false discovery rate correction, as the map's switch.
    scheme : str
        Classification of incident counts.
    crs, fmt : str
        Keys of :data:`geodata.writers.CRS_CHOICES` and :data:`geodata.writers.FORMATS`.
    lang : str
        Language of the page and of the file's labels.
    """

    layers: tuple[str, ...] = ("incidents",)
    res: int = DEFAULT_RES
    area: str = "county"
    precincts: tuple[str, ...] = ()
    grids: tuple[str, ...] = ()
    bbox: Bounds | None = None
    window: str = "30d"
    since: str = ""
    until: str = ""
    cats: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    band: str = "all"
    fdr: bool = False
    scheme: str = "natural_breaks"
    crs: str = "EPSG:4326"
    fmt: str = "gpkg"
    lang: str = "zh"

    def span(self, last_day: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The half-open window ``(since, until)``, relative to the data's last day."""
        return window_of(self.window, last_day=last_day, since=self.since, until=self.until)

    def to_query(self) -> str:
        """Every field as a query string (with ``?``): what the download link carries."""
        pairs = [
            ("layers", ",".join(self.layers)),
            ("res", str(self.res)),
            ("area", self.area),
            ("precincts", ",".join(self.precincts)),
            ("grids", ",".join(self.grids)),
            ("bbox", bbox_text(self.bbox)),
            ("window", self.window),
            ("since", self.since),
            ("until", self.until),
            ("cats", ",".join(self.cats)),
            ("kinds", ",".join(self.kinds)),
            ("band", "" if self.band == "all" else self.band),
            ("fdr", "1" if self.fdr else ""),
            ("scheme", self.scheme),
            ("crs", self.crs),
            ("fmt", self.fmt),
            ("lang", self.lang),
        ]
        return "?" + urlencode([(k, v) for k, v in pairs if v], safe=",:")


def bbox_text(bbox: Bounds | None) -> str:
    """``"south,west,north,east"`` to 6 decimals (~0.1 m), or "" for None."""
    return "" if bbox is None else ",".join(f"{v:.6f}" for v in bbox)


def _bbox(text: str) -> Bounds | None:
    try:
        south, west, north, east = (float(v) for v in text.split(","))
    except ValueError:
        return None
    values = (south, west, north, east)
    if not all(math.isfinite(v) for v in values):
        return None
    if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
        return None
    return values


def bbox_around(lat: float, lng: float, zoom: float) -> Bounds:
    """The bounds of an :data:`ASSUMED_VIEW_PX` screen centred on ``(lat, lng)`` at ``zoom``."""
    deg_per_px = 360.0 / (256 * 2**zoom)
    half_w = ASSUMED_VIEW_PX[0] / 2 * deg_per_px
    # Mercator: a pixel spans fewer degrees of latitude by cos(latitude).
    half_h = ASSUMED_VIEW_PX[1] / 2 * deg_per_px * math.cos(math.radians(lat))
    return (max(lat - half_h, -85.0), max(lng - half_w, -180.0),
            min(lat + half_h, 85.0), min(lng + half_w, 180.0))  # fmt: skip


def export_href(search: str | None, bounds: Any) -> str:
    """The map's "export this view" link: ``/export?<the map's query>&bbox=s,w,n,e``.

    ``bounds`` is the map's ``[[south, west], [north, east]]`` (None until it reports
    them); the exact view then travels with the link, not only its centre and zoom.
    """
    pairs = [(k, v) for k, v in parse_qsl((search or "").lstrip("?")) if k != "bbox"]
    try:
        (south, west), (north, east) = bounds
        box = _bbox(f"{float(south)},{float(west)},{float(north)},{float(east)}")
    except (TypeError, ValueError):
        box = None
    if box is not None:
        pairs.append(("bbox", bbox_text(box)))
    return "/export" + ("?" + urlencode(pairs, safe=",") if pairs else "")


def _ids(text: str) -> tuple[str, ...]:
    return tuple(sorted({v.strip() for v in text.split(",") if v.strip()}))


def _bad(name: str, value: str) -> ExportProblem:
    return ExportProblem("export_bad_value", name=name, value=value[:80])


def _export_fields(query: dict[str, str], *, strict: bool) -> dict[str, Any]:
    """The export's own parameters in ``query``: bad ones dropped, or refused if strict."""
    out: dict[str, Any] = {}

    def take(name: str, ok: bool, value: Any) -> None:
        if ok:
            out[name] = value
        elif strict:
            raise _bad(name, query[name])

    if "layers" in query:
        names = tuple(dict.fromkeys(v for v in query["layers"].split(",") if v))
        take("layers", bool(names) and all(n in LAYERS for n in names), names)
    if "res" in query:
        text = query["res"]
        take("res", text.isdigit() and int(text) in RESOLUTIONS, int(text) if text.isdigit() else 0)
    if "area" in query:
        take("area", query["area"] in AREAS, query["area"])
    for name in ("precincts", "grids"):
        if name in query:
            out[name] = _ids(query[name])
    if "bbox" in query:
        box = _bbox(query["bbox"])
        take("bbox", box is not None, box)
    if "window" in query:
        take("window", query["window"] in PRESETS, query["window"])
    for name in ("since", "until"):
        if name in query:
            take(name, bool(viewstate.DATE.match(query[name])), query[name])
    if "cats" in query:
        cats = _ids(query["cats"])
        take("cats", all(c in INCIDENT_CATEGORIES for c in cats), cats)
    if "kinds" in query:
        kinds = _ids(query["kinds"])
        take("kinds", all(k in UNIT_KINDS for k in kinds), kinds)
    if "band" in query:
        take("band", query["band"] == "all" or query["band"] in BANDS, query["band"])
    if "fdr" in query:
        take("fdr", query["fdr"] in ("0", "1"), query["fdr"] == "1")
    if "scheme" in query:
        take("scheme", query["scheme"] in SCHEMES, query["scheme"])
    if "crs" in query:
        take("crs", query["crs"] in CRS_CHOICES, query["crs"])
    if "fmt" in query:
        take("fmt", query["fmt"] in FORMATS, query["fmt"])
    if "lang" in query:
        take("lang", query["lang"] in ("zh", "en"), query["lang"])
    return out


def _from_map(search: str, *, last_day: pd.Timestamp, default_lang: str) -> dict[str, Any]:
    """The export choices a map view implies: its layer, window (or playback frame),
    categories, resolution (or the one its zoom draws), scheme and view bounds."""
    state = viewstate.from_query(search, default_lang=default_lang)
    query = dict(parse_qsl(search.lstrip("?")))
    out: dict[str, Any] = {
        "layers": (MAP_TO_EXPORT.get(state.layer, MAP_TO_EXPORT["heat"]),),
        "window": state.window,
        "since": state.since,
        "until": state.until,
        "cats": state.cats,
        "kinds": tuple(sorted(state.kinds)),
        "band": state.band,
        "fdr": state.fdr,
        "scheme": state.scheme,
        "lang": state.lang,
    }
    if state.step in ("day", "week"):
        # The map shows one playback frame: export what it shows.
        w = pagestate.window(
            last_day, preset=state.window, start_date=state.since, end_date=state.until,
            step=state.step, frame=state.frame,
        )  # fmt: skip
        last = w.until - pd.Timedelta(days=1)
        out.update(window="custom", since=f"{w.since:%Y-%m-%d}", until=f"{last:%Y-%m-%d}")
    out["res"] = int(state.res) if state.res.isdigit() else zoom_to_res(state.zoom, default=7)
    box = _bbox(query.get("bbox", ""))
    if box is None and state.lat is not None and state.lng is not None and state.zoom is not None:
        box = bbox_around(state.lat, state.lng, state.zoom)
    if box is not None:
        out.update(area="view", bbox=box)
    return out


def request_from_query(
    search: str | None,
    *,
    last_day: pd.Timestamp,
    default_lang: str = "zh",
    strict: bool = False,
) -> ExportRequest:
    """Read an export request from a query string.

    A query holding ``layers`` is an export page's or download link's own; any other is
    the map's (``/export?<map query>&bbox=...`` from "export this view"), whose layer,
    window, filters, resolution and view bounds pre-fill the choices.

    Parameters
    ----------
    search : str or None
        The query string, with or without ``?``.
    last_day : pandas.Timestamp
        The data's last day (to resolve a map's playback frame).
    default_lang : str
        Language when the query names none.
    strict : bool
        Refuse (:class:`ExportProblem`) a bad or unknown value instead of using the
        default: for the download route, which must export what was asked or nothing.

    Returns
    -------
    ExportRequest
        Its resolution clamped to what its layers allow (strict: refused instead).
    """
    text = (search or "").lstrip("?")
    query = dict(parse_qsl(text))
    fields: dict[str, Any] = {"lang": default_lang}
    if "layers" not in query and not strict:
        fields.update(_from_map(text, last_day=last_day, default_lang=default_lang))
        # The map's own keys (window, res, cats...) were read the map's way above.
        query = {k: v for k, v in query.items() if k in EXPORT_ONLY}
    fields.update(_export_fields(query, strict=strict))
    request = replace(ExportRequest(), **fields)
    finest = min(max_res(n) for n in request.layers)
    coarsest = max(min_res(n) for n in request.layers)
    if request.res > finest:
        if strict:
            raise ExportProblem("export_res_too_fine", layer=", ".join(request.layers), res=finest)
        request = replace(request, res=finest)
    if request.res < coarsest:
        if strict:
            raise ExportProblem(
                "export_res_too_coarse", layer=", ".join(request.layers), res=coarsest
            )
        request = replace(request, res=coarsest)
    if request.area == "view" and request.bbox is None and not strict:
        request = replace(request, area="county")
    return request


# --------------------------------------------------------------------------- checks


def check_request(request: ExportRequest) -> None:
    """Refuse, in the page's language, a request that cannot give a file.

    Raises
    ------
    ExportProblem
        No layer; a resolution too fine for a layer; GeoJSON in a CRS other than WGS84
        (RFC 7946); several layers in a one-layer format; an area without its choice.
    """
    if not request.layers:
        raise ExportProblem("export_no_layer")
    for name in request.layers:
        if name not in LAYERS:
            raise _bad("layers", name)
        if request.res > max_res(name):
            raise ExportProblem(
                "export_res_too_fine", layer=layer_title(name, request.lang), res=max_res(name)
            )
        if request.res < min_res(name):
            raise ExportProblem(
                "export_res_too_coarse", layer=layer_title(name, request.lang), res=min_res(name)
            )
    if request.res not in RESOLUTIONS:
        raise _bad("res", str(request.res))
    if request.crs not in CRS_CHOICES:
        raise _bad("crs", request.crs)
    if request.fmt not in FORMATS:
        raise _bad("fmt", request.fmt)
    if request.fmt == "geojson" and request.crs != "EPSG:4326":
        raise ExportProblem("export_geojson_crs", crs=crs_title(request.crs, request.lang))
    if len(request.layers) > 1 and not FORMATS[request.fmt].multi_layer:
        raise ExportProblem(
            "export_one_layer",
            fmt=format_title(request.fmt, request.lang),
            n=len(request.layers),
        )
    if request.area == "precincts" and not request.precincts:
        raise ExportProblem("export_no_precinct")
    if request.area == "grids" and not request.grids:
        raise ExportProblem("export_no_grid")
    if request.area == "view" and request.bbox is None:
        raise ExportProblem("export_no_view")
    if request.area not in AREAS:
        raise _bad("area", request.area)


# --------------------------------------------------------------------------- labels


def layer_title(name: str, lang: str) -> str:
    """The exportable layer's title in ``lang``."""
    return LAYERS[name].title.text(lang)


def crs_title(key: str, lang: str) -> str:
    """A CRS's name in ``lang``."""
    choice = CRS_CHOICES[key]
    return choice.en if lang == "en" else choice.zh


def format_title(key: str, lang: str) -> str:
    """A format's name in ``lang``."""
    fmt = FORMATS[key]
    return fmt.en if lang == "en" else fmt.zh
