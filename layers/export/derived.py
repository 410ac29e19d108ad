"""Every map layer exportable: the exports derived from the layer registry.

The export's list is the registry's (:data:`layers.registry.LAYERS`, the map's list): a
map layer that no hand-written export presents (:data:`~layers.export.catalogue.
HAND_WRITTEN`, whose fields and classes suit a GIS file covering the area) is exported
as the registry computes it — the very :class:`~layers.registry.frame.LayerResult` the
map draws, for the whole area, with the map's filters. Its rows are the cells the map
draws and the cells it explains (the gap layer explains every cell of the area, class 0
"no gap" included, uncoloured on the map and ``class`` -1 in the file); its values are
the map's explaining columns (the numbers a click shows) under the names of
:data:`layers.export.fields.COLUMNS`; its ``class`` is the map's colour (the index of the
legend's category). The gap layer adds the reason line of each gap cell
(:func:`layers.coverage_gaps.reasons`), as the ranked list shows it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

import numpy as np
import pandas as pd

from geodata.export_inputs import ExportInputs
from geodata.schema import Label
from geodata.writers.bundle import FieldInfo
from layers.coverage_gaps import reasons
from layers.export.catalogue import HAND_WRITTEN, LayerSpec, LayerTable, LayerUnavailable, Request
from layers.export.fields import COLUMNS, field_info
from layers.export.styles import fixed_style
from layers.registry import LAYERS as MAP_LAYERS
from layers.registry import LayerResult, compute, cut, params_for

UNDRAWN: Final = Label("地图上不着色", "Not coloured on the map")
"""The class label of a row the map explains but leaves uncoloured (class -1)."""
RENAMES: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {
        "gaps": {"class": "gap_class", "label_zh": "gap_class_zh", "label_en": "gap_class_en"},
        "koper": {"class": "dose_class", "value": "dose_share"},
    }
)
"""Explaining columns whose name would clash with the file's own (``class``) or say
nothing (``value``), by layer."""
ZONE_COLUMNS: Final = ("precinct_id", "grid_id")
"""Given to every row by the assembly from the zones; a layer's copy is dropped."""
DESCRIPTIONS: Final[Mapping[str, Label]] = MappingProxyType(
    {
        "gaps": Label(
            "风险高而防护弱之处：每个六边形的缺口分值、等级、原因及风险与防护各分项",
            "Where risk is high and protection thin: gap score, class, reason and the "
            "parts of risk and protection per hexagon",
        ),
        "emerging": Label(
            "按周的 Gi* 热点及其 Mann–Kendall 趋势（新增、持续、加剧……）",
            "Weekly Gi* hot spots and their Mann–Kendall trend (new, persistent, ...)",
        ),
        "mom": Label(
            "每个六边形本期与上月同期警情之比及其精确检验",
            "Incidents per hexagon against the same window a month earlier, exact test",
        ),
        "yoy": Label(
            "每个六边形本期与去年同期警情之比及其精确检验",
            "Incidents per hexagon against the same window a year earlier, exact test",
        ),
        "koper": Label(
            "95%以上置信热点的巡防剂量：10–15分钟停留、2小时内复巡的小时占比",
            "Koper dose at 95 %+ hot spots: share of hours dosed by 10–15 min stops",
        ),
    }
)


def _extra_gaps(frame: pd.DataFrame, drawn: np.ndarray) -> pd.DataFrame:
    """The reason line of each gap cell the map colours ("" for the others)."""
    out = pd.DataFrame({"reason_zh": "", "reason_en": ""}, index=frame.index)
    if drawn.any():
        found = reasons(frame[drawn])
        out.loc[found.index, ["reason_zh", "reason_en"]] = found.to_numpy()
    return out


EXTRA: Final[Mapping[str, Callable[[pd.DataFrame, np.ndarray], pd.DataFrame]]] = MappingProxyType(
    {"gaps": _extra_gaps}
)
"""Columns a layer's export adds to the map's explaining columns, by layer."""


def _plain(value: Any) -> Any:
    """``value`` as JSON for the metadata (dataclasses, tuples, numpy and times)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _texts(values: pd.Series) -> pd.Series:
    """An object column as text: times in ISO form, labels in Chinese, missing as None."""
    out: list[str | None] = []
    for v in values.to_numpy(dtype=object):
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
            out.append(None)
        elif isinstance(v, pd.Timestamp):
            out.append(v.isoformat())
        elif hasattr(v, "zh"):
            out.append(str(v.zh))
        else:
            out.append(str(v))
    return pd.Series(pd.array(out, dtype="str"), index=values.index)


def table_of(result: LayerResult) -> LayerTable:
    """An export table of a registry layer's result for the whole area (uncut).

    Rows: the cells drawn and the cells explained, sorted; ``class`` is the drawn
    cell's legend category (the map's colour) and -1 for a cell the map leaves
    uncoloured; values: the explaining columns, renamed (:data:`RENAMES`), plus the
    layer's :data:`EXTRA` columns.
    """
    if not result.categorical:
        raise ValueError(f"layer {result.layer} has no fixed classes to export")
    explain = result.explain
    cells = np.union1d(result.cells, explain.index.to_numpy(dtype=np.uint64)).astype(np.uint64)
    klass = np.full(cells.size, -1, dtype=np.int64)
    klass[np.searchsorted(cells, result.cells)] = result.values.astype(np.int64)
    frame = explain.reindex(pd.Index(cells, dtype=np.uint64))
    frame.attrs = dict(explain.attrs)
    extra = EXTRA.get(result.layer)
    added = extra(frame, klass >= 0) if extra is not None else pd.DataFrame(index=frame.index)
    renames = RENAMES.get(result.layer, {})
    keep = [c for c in frame.columns if not str(c).startswith("_") and c not in ZONE_COLUMNS]
    values = pd.concat([frame[keep], added], axis=1).rename(columns=renames)
    out = pd.DataFrame({"cell": cells})
    fields: list[FieldInfo] = []
    labels = {renames.get(k, k): v for k, v in result.explain_labels.items()}
    for name in values.columns:
        column = values[name]
        out[name] = (
            _texts(column).array if column.dtype == object else column.to_numpy()
        )  # fmt: skip
        label = labels.get(name)
        if name in COLUMNS:
            fields.append(
                field_info(name, zh=label.zh if label else "", en=label.en if label else "")
            )
        else:
            fields.append(
                FieldInfo(name, "", label.zh if label else name, label.en if label else name)
            )
    out["class"] = klass
    style = fixed_style(
        {i: c.label for i, c in enumerate(result.categories)},
        [c.colour for c in result.categories],
        title=result.title,
        unit=result.unit.en,
        no_data=UNDRAWN,
    )
    return LayerTable(
        frame=out,
        fields=tuple(fields),
        style=style,
        parameters={"map_layer": result.layer, **_plain(dict(explain.attrs))},
    )


def _registry_layer(layer: str) -> Callable[[ExportInputs, Request], LayerTable]:
    spec = MAP_LAYERS[layer]

    def compute_layer(inputs: ExportInputs, req: Request) -> LayerTable:
        data = inputs.source
        if data is None:
            raise LayerUnavailable(
                f"layer {layer} is computed from the data snapshot the map uses, "
                "which this export was not given"
            )
        params = params_for(
            layer,
            res=req.res,
            since=req.since.isoformat(),
            until=req.until.isoformat(),
            cats=tuple(req.categories or ()),
            kinds=tuple(req.unit_kinds or ()),
            band=req.band or "all",
            fdr=req.fdr,
        )
        found = inputs.layer_result(params) if inputs.layer_result else compute(data, params)
        table = table_of(cut(found, None))
        filters = {
            "categories": list(params.cats) or "all" if "cats" in spec.filters else None,
            "unit_kinds": list(params.kinds) or "all" if "kinds" in spec.filters else None,
            "band": params.band if "band" in spec.filters else None,
            "fdr": params.fdr if "fdr" in spec.filters else None,
        }
        parameters = {**{k: v for k, v in filters.items() if v is not None}, **table.parameters}
        return dataclasses.replace(table, parameters=parameters, windowed="window" in spec.filters)

    return compute_layer


def _derived() -> dict[str, LayerSpec]:
    presented = {m for spec in HAND_WRITTEN.values() for m in spec.presents}
    out: dict[str, LayerSpec] = {}
    for layer, spec in MAP_LAYERS.items():
        if layer in presented:
            continue
        out[layer] = LayerSpec(
            name=layer,
            title=spec.label,
            description=DESCRIPTIONS.get(
                layer, Label(f"地图图层「{spec.label.zh}」", f"The map layer {spec.label.en}")
            ),
            tables=(),
            cubes=(),
            compute=_registry_layer(layer),
            presents=(layer,),
            snapshot=True,
        )
    return out


LAYERS: Final[Mapping[str, LayerSpec]] = MappingProxyType({**HAND_WRITTEN, **_derived()})
"""Every exportable layer, by name: the hand-written ones, then one per map layer of the
registry that none of them presents — so every map layer can be exported."""
MAP_TO_EXPORT: Final[Mapping[str, str]] = MappingProxyType(
    {m: name for name, spec in LAYERS.items() for m in spec.presents}
)
"""The export of each map layer."""

__all__ = ["LAYERS", "MAP_TO_EXPORT", "UNDRAWN", "table_of"]
