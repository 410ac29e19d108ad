"""The map's presenters of the layer registry, and the cache in front of it.

:func:`layer_result` is a layer over the whole area (:mod:`layers.registry`), cached by
the versions of what it reads and its parameters — never by user: one computation serves
every scope. :func:`scoped_result` is that result cut to a view's scope
(:meth:`dashboard.datasource.View.cut`); :func:`layer_payload` the cells of it in view.
"""

from __future__ import annotations

from typing import Any

from dashboard.cache import LayerCache
from dashboard.datasource import COUNTY, View
from dashboard.views.base import payload
from geodata.snapshot import Snapshot
from layers.registry import (
    LAYERS,
    LayerParams,
    LayerResult,
    compute,
    params_for,
    reads_of,
    spec_of,
)
from layers.viewport import Bounds


def layer_key(snapshot: Snapshot, params: LayerParams) -> dict[str, Any]:
    """The cache parameters of a layer over the whole area: the versions of the tables
    and cubes it reads, and every layer parameter."""
    return {
        "version": snapshot.version_of(reads_of(params.layer)),
        **params.key(),
        "scope": COUNTY,
    }


def layer_result(snapshot: Snapshot, cache: LayerCache, params: LayerParams) -> LayerResult:
    """The layer over the whole area, from the cache or computed."""
    return cache.get_or_compute(
        "layer", layer_key(snapshot, params), lambda: compute(snapshot, params)
    )


def scoped_result(view: View, cache: LayerCache, params: LayerParams) -> LayerResult:
    """The layer as ``view``'s user sees it: the area's result, cut to the scope."""
    return view.cut(layer_result(view.snapshot, cache, params))


def layer_payload(
    view: View, cache: LayerCache, params: LayerParams, bounds: Bounds | None
) -> dict[str, Any]:
    """The cells of the layer inside ``bounds`` (already snapped) that ``view`` may see,
    from the cache or sliced."""
    key = {**layer_key(view.snapshot, params), "scope": view.scope_key, "bounds": bounds}
    return cache.get_or_compute(
        "view", key, lambda: payload(scoped_result(view, cache, params), bounds)
    )


__all__ = [
    "LAYERS",
    "LayerParams",
    "LayerResult",
    "layer_key",
    "layer_payload",
    "layer_result",
    "params_for",
    "scoped_result",
    "spec_of",
]
