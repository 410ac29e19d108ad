"""The one layer registry: every layer the map draws, the wall shows and a planner exports.

Each :class:`LayerSpec` names its view function (``compute(data, params)`` over the whole
area, see :mod:`layers.registry.frame`), the resolutions it allows, the filters that
change it, and the tables and cubes it reads (``reads``), so that a cache key can hold the
versions of just those: new incidents leave the response reach as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from geodata.schema import Label
from layers.registry import gaps, incidents, protection
from layers.registry.frame import Category, LayerParams, LayerResult, cut, scope_codes
from layers.registry.inputs import Inputs

Compute = Callable[[Inputs, LayerParams], LayerResult]

ZONES: Final = ("area", "precincts", "grids", "cube:cells")
"""What every layer reads besides its own data: the cells of the area and their zones."""
INCIDENTS: Final = ("cube:incidents",)
PATROLS: Final = ("cube:patrol", "cube:visits")


@dataclass(frozen=True)
class LayerSpec:
    """A layer: its label, its view function and the resolutions it allows.

    ``filters`` names the filters that change it (``cats``, ``kinds``, ``band``,
    ``window``), so a filter that does not apply is not part of its cache key.
    """

    id: str
    label: Label
    compute: Compute
    reads: tuple[str, ...]
    min_res: int = 7
    max_res: int = 11
    filters: frozenset[str] = frozenset({"window", "cats", "band"})

    def clamp(self, res: int) -> int:
        return min(max(res, self.min_res), self.max_res)


# Gi* and emerging hot spots need the whole area's cells; finer than res 9 (≈0.1 km²) a
# county's incidents are too sparse for the statistic, and 1.6 million res-11 cells too
# many. Reach is computed per cell centre over the area: up to res 10.
LAYERS: Final[dict[str, LayerSpec]] = {
    spec.id: spec
    for spec in (
        LayerSpec("heat", Label("警情热力", "Incident heat"), incidents.heat, INCIDENTS),
        LayerSpec(
            "rate",
            Label("警情率（每千人）", "Incident rate per 1,000"),
            incidents.rate,
            (*INCIDENTS, "communities"),
        ),
        LayerSpec(
            "hotspots",
            Label("热点分析", "Hot spots"),
            incidents.hotspots,
            INCIDENTS,
            max_res=9,
            filters=frozenset({"window", "cats", "band", "fdr"}),
        ),
        LayerSpec(
            "emerging",
            Label("时空热点趋势", "Emerging hot spots"),
            incidents.emerging,
            INCIDENTS,
            max_res=9,
            filters=frozenset({"window", "cats", "band", "fdr"}),
        ),
        LayerSpec(
            "mom", Label("警情环比", "Change, month on month"), incidents.change_mom, INCIDENTS
        ),
        LayerSpec(
            "yoy", Label("警情同比", "Change, year on year"), incidents.change_yoy, INCIDENTS
        ),
        LayerSpec(
            "community",
            Label("平安创建", "Safe communities"),
            protection.community,
            (*INCIDENTS, "communities"),
            min_res=7,
            max_res=10,
            filters=frozenset({"window"}),
        ),
        LayerSpec(
            "reach",
            Label("1-3-5 处置圈", "1-3-5 response reach"),
            protection.response,
            ("response_units",),
            max_res=10,
            filters=frozenset(),
        ),
        # Patrol coverage reports every cell of the area (no patrol is a class too):
        # up to res 10, as the reach. The dose and the gaps rest on Gi* hot spots: res 9.
        LayerSpec(
            "patrol",
            Label("巡逻覆盖", "Patrol coverage"),
            protection.patrol,
            PATROLS,
            max_res=10,
            filters=frozenset({"window", "kinds", "band"}),
        ),
        LayerSpec(
            "koper",
            Label("热点巡防剂量", "Koper dose at hot spots"),
            protection.koper,
            (*INCIDENTS, *PATROLS),
            max_res=9,
            filters=frozenset({"window", "cats", "kinds", "band"}),
        ),
        LayerSpec(
            "gaps",
            Label("防控缺口", "Protection gaps"),
            gaps.gaps,
            (*INCIDENTS, *PATROLS, "communities", "response_units", "population"),
            max_res=9,
            filters=frozenset({"window", "cats", "kinds"}),
        ),
    )
}
DEFAULT_LAYER: Final = "heat"


def spec_of(layer: str) -> LayerSpec:
    """The spec of ``layer``, or of the default layer for an unknown id."""
    return LAYERS.get(layer, LAYERS[DEFAULT_LAYER])


def reads_of(layer: str) -> tuple[str, ...]:
    """Every table and cube ``layer`` reads, zones included (sorted)."""
    return tuple(sorted({*spec_of(layer).reads, *ZONES}))


def params_for(
    layer: str,
    *,
    res: int,
    since: str,
    until: str,
    cats: tuple[str, ...] = (),
    kinds: tuple[str, ...] = (),
    band: str = "all",
    fdr: bool = False,
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
        fdr=bool(fdr) and "fdr" in f,
    )


def compute(data: Inputs, params: LayerParams) -> LayerResult:
    """The layer of ``params`` over the whole area of ``data`` (uncached)."""
    return spec_of(params.layer).compute(data, params)


__all__ = [
    "DEFAULT_LAYER",
    "LAYERS",
    "Category",
    "Inputs",
    "LayerParams",
    "LayerResult",
    "LayerSpec",
    "compute",
    "cut",
    "params_for",
    "reads_of",
    "scope_codes",
    "spec_of",
]
