"""The area of an export within the user's scope, and the map view cut out of a layer.

A chief's "county" is their precincts; a precinct or grid outside the scope is refused
(HTTP 403) however the request was made — the page offers only what the scope holds, and
this is the server's second line. The map view is cut by cell centre, as the map sends
the cells in view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dashboard.views.export import ExportProblem, ExportRequest, Scope
from geodata.hexes import cells_to_lnglat, strs_to_cells
from geodata.writers import ExportBundle
from layers.viewport import Bounds, in_bounds


@dataclass(frozen=True)
class Area:
    """What :func:`layers.export.build_export` is given for a request's area, and a view box."""

    precincts: tuple[str, ...]
    grids: tuple[str, ...]
    bbox: Bounds | None

    def describe(self, kind: str, scope: Scope) -> dict[str, Any]:
        """The area block of the audit log."""
        out: dict[str, Any] = {"kind": kind}
        if self.precincts:
            out["precincts"] = list(self.precincts)
        if self.grids:
            out["grids"] = list(self.grids)
        if self.bbox is not None:
            out["bbox"] = list(self.bbox)
        out["scope"] = "county" if scope is None else sorted(scope)
        return out


def resolve_area(
    request: ExportRequest,
    scope: Scope,
    *,
    precincts: frozenset[str],
    grid_precinct: dict[str, str],
) -> Area:
    """The precincts, grids and view box to export, within the user's ``scope``.

    Parameters
    ----------
    request : ExportRequest
    scope : frozenset of str or None
        The precincts the user may see; None for the whole county.
    precincts : frozenset of str
        Every precinct id of the data.
    grid_precinct : dict
        ``{grid_id: precinct_id}`` of every grid.

    Returns
    -------
    Area
        For the county (or the view) and a scoped user, the scope's precincts.

    Raises
    ------
    ExportProblem
        An unknown id (400), or a precinct or grid outside the scope (403).
    """
    if request.area == "precincts":
        unknown = sorted(set(request.precincts) - precincts)
        if unknown:
            raise ExportProblem("export_bad_value", name="precincts", value=",".join(unknown))
        outside = sorted(set(request.precincts) - scope) if scope is not None else []
        if outside:
            raise ExportProblem("export_out_of_scope", status=403, ids=", ".join(outside))
        return Area(request.precincts, (), None)
    if request.area == "grids":
        unknown = sorted(set(request.grids) - set(grid_precinct))
        if unknown:
            raise ExportProblem("export_bad_value", name="grids", value=",".join(unknown))
        if scope is not None:
            outside = sorted(g for g in request.grids if grid_precinct[g] not in scope)
            if outside:
                raise ExportProblem("export_out_of_scope", status=403, ids=", ".join(outside))
        return Area((), request.grids, None)
    mine = () if scope is None else tuple(sorted(scope))
    if scope is not None and not scope:
        raise ExportProblem("export_out_of_scope", status=403, ids="—")
    return Area(mine, (), request.bbox if request.area == "view" else None)


def clip_to_view(bundle: ExportBundle, bbox: Bounds) -> ExportBundle:
    """The bundle's rows whose cell centre lies in ``bbox`` (edges included), as the map
    sends the cells in view; the metadata says so."""
    cells = strs_to_cells(bundle.frame["h3_cell"].tolist())
    lng, lat = cells_to_lnglat(cells)
    keep = in_bounds(lng, lat, bbox)
    frame = bundle.frame[keep].reset_index(drop=True)
    meta = dict(bundle.metadata)
    area = dict(meta.get("area") or {})
    area.update(
        selection="map view" if area.get("selection") == "county" else "map view in precincts",
        bbox={"south": bbox[0], "west": bbox[1], "north": bbox[2], "east": bbox[3]},
        view_rule="a cell is in the view when its centre lies inside the bounds",
    )
    meta.update(area=area, features=len(frame))
    return ExportBundle(
        layer=bundle.layer,
        frame=frame,
        geometry=np.asarray(bundle.geometry, dtype=object)[keep],
        fields=bundle.fields,
        metadata=meta,
        style=bundle.style,
    )
