"""One view module per map layer; this registry names them and caches what they compute.

Callbacks call :func:`layer_result` (the whole scope, cached by every parameter) and
:func:`layer_payload` (the cells in view, cached by the snapped bounds too).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dashboard.cache import LayerCache
from dashboard.views import gaps, heat, protection
from dashboard.views.base import LayerParams, LayerResult, LayerSpec, payload
from geodata.schema import Label
from layers.viewport import Bounds

# Gi* and emerging hot spots need the whole scope's cells; finer than res 9 (≈0.1 km²) a
# county's incidents are too sparse for the statistic, and 1.6 million res-11 cells too
# many. Reach is computed per cell centre over the scope: up to res 10.
LAYERS: dict[str, LayerSpec] = {
    spec.id: spec
    for spec in (
        LayerSpec("heat", Label("警情热力", "Incident heat"), heat.heat),
        LayerSpec("rate", Label("警情率（每千人）", "Incident rate per 1,000"), heat.rate),
        LayerSpec("hotspots", Label("热点分析", "Hot spots"), heat.hotspots, max_res=9),
        LayerSpec(
            "emerging", Label("时空热点趋势", "Emerging hot spots"), heat.emerging, max_res=9
        ),
        LayerSpec("mom", Label("警情环比", "Change, month on month"), heat.change_mom),
        LayerSpec("yoy", Label("警情同比", "Change, year on year"), heat.change_yoy),
        LayerSpec(
            "community",
            Label("平安创建", "Safe communities"),
            protection.community,
            min_res=7,
            max_res=10,
            filters=frozenset({"window"}),
        ),
        LayerSpec(
            "reach",
            Label("1-3-5 处置圈", "1-3-5 response reach"),
            protection.response,
            max_res=10,
            filters=frozenset(),
        ),
        # Patrol coverage reports every cell of the scope (no patrol is a class too):
        # up to res 10, as the reach. The dose and the gaps rest on Gi* hot spots: res 9.
        LayerSpec(
            "patrol",
            Label("巡逻覆盖", "Patrol coverage"),
            protection.patrol,
            max_res=10,
            filters=frozenset({"window", "kinds", "band"}),
        ),
        LayerSpec(
            "koper",
            Label("热点巡防剂量", "Koper dose at hot spots"),
            protection.koper,
            max_res=9,
            filters=frozenset({"window", "cats", "kinds", "band"}),
        ),
        LayerSpec(
            "gaps",
            Label("防控缺口", "Protection gaps"),
            gaps.gaps,
            max_res=9,
            filters=frozenset({"window", "cats", "kinds"}),
        ),
    )
}
DEFAULT_LAYER = "heat"


def spec_of(layer: str) -> LayerSpec:
    """The spec of ``layer``, or of the default layer for an unknown id."""
    return LAYERS.get(layer, LAYERS[DEFAULT_LAYER])


def params_for(
    layer: str,
    *,
    res: int,
    since: str,
    until: str,
    cats: tuple[str, ...] = (),
    kinds: tuple[str, ...] = (),
    band: str = "all",
    scope: str = "county",
) -> LayerParams:
    """Parameters of a layer, with the filters it ignores blanked (a better cache hit rate)
    and the resolution clamped to what it allows."""
    spec = spec_of(layer)
    f = spec.filters
    return LayerParams(
        layer=spec.id,
        res=spec.clamp(res),
        since=since if "window" in f else "",
        until=until if "window" in f else "",
        cats=tuple(sorted(cats)) if "cats" in f else (),
        kinds=tuple(sorted(kinds)) if "kinds" in f else (),
        band=band if "band" in f else "all",
        scope=scope,
    )


def scoped_params(source: Any, params: LayerParams) -> LayerParams:
    """``params`` with the scope of ``source`` (the data it will be computed from).

    The scope in a layer key may come from the browser; the one that counts is the
    source's, so a cache key always names the scope its answer was computed for.
    """
    scope = getattr(source, "scope_key", "county")
    return params if params.scope == scope else replace(params, scope=scope)


def layer_key(source: Any, params: LayerParams) -> dict[str, Any]:
    """The cache parameters of a layer result: the data version and every layer
    parameter, the scope being the one of ``source`` (:func:`scoped_params`)."""
    return {"version": source.version, **scoped_params(source, params).key()}


def layer_result(source: Any, cache: LayerCache, params: LayerParams) -> LayerResult:
    """The layer over the whole scope, from the cache or computed."""
    src = getattr(source, "current", source)  # one scope for the whole computation
    params = scoped_params(src, params)
    key = layer_key(src, params)
    return cache.get_or_compute("layer", key, lambda: spec_of(params.layer).compute(src, params))


def layer_payload(
    source: Any, cache: LayerCache, params: LayerParams, bounds: Bounds | None
) -> dict[str, Any]:
    """The cells of the layer inside ``bounds`` (already snapped), from the cache or sliced."""
    src = getattr(source, "current", source)
    params = scoped_params(src, params)
    key = {"version": src.version, **params.key(), "bounds": bounds}
    return cache.get_or_compute(
        "view", key, lambda: payload(layer_result(src, cache, params), bounds)
    )


__all__ = [
    "LAYERS",
    "LayerParams",
    "LayerResult",
    "layer_key",
    "layer_payload",
    "layer_result",
    "params_for",
]
