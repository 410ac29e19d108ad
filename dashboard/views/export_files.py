"""Building and writing the export page's files: the CLI's flow (load → build → write),
with what the page and its download share kept between the two.

The page shows the exact number of features and the size of the file before anything is
downloaded. To give the size exactly, the preview writes the file once, into a private
folder, and the download sends that file — nothing is computed twice. A very large
export (more than :data:`PREPARE_LIMIT` features) is not written for a preview: its size
is estimated from a sample of features, and the file is written when it is downloaded,
from the bundles kept since the preview.

Bundles (one layer's rows and hexagons, often tens of megabytes) are kept in this
process, a few at a time, rather than in the shared flask-caching cache: pickling them
into Redis would cost more than recomputing them. Their keys come from
:func:`dashboard.cache.cache_key` and hold everything that changes the rows — the data
version and the user's scope included. Another worker that has not seen the preview
simply rebuilds the file from the request the download link carries.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import tempfile
import threading
import time
import weakref
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

import numpy as np

from dashboard.cache import LayerCache, cache_key
from dashboard.datasource import ReloadingSource
from dashboard.views import LAYERS as MAP_LAYERS
from dashboard.views import layer_result
from dashboard.views.export import (
    BAND_LAYERS,
    CATEGORY_LAYERS,
    EXPORT_TO_MAP,
    FDR_LAYERS,
    KIND_LAYERS,
    SCHEME_LAYERS,
    ExportProblem,
    ExportRequest,
    Scope,
    check_request,
    layer_title,
)
from dashboard.views.export_area import Area, clip_to_view, resolve_area
from geodata.export_inputs import ExportInputs, snapshot_inputs
from geodata.snapshot import Snapshot
from geodata.store import StoreError
from geodata.writers import FORMATS, ExportBundle, ExportError, write_export
from layers.export import LAYERS, LayerUnavailable, build_export, hide_units
from layers.export.naming import AreaName, export_name
from layers.registry.frame import OTHER_PRECINCT

PREPARE_LIMIT: Final = 100_000
"""Above this many features a preview estimates the size instead of writing the file
(a county at res 10 is ~300,000 hexagons: a minute of writing and hundreds of MB)."""
SAMPLE_FEATURES: Final = 2_000
BUNDLE_SLOTS: Final = 6
WINDOW_SLOTS: Final = 2
FILE_SLOTS: Final = 8
FILE_TTL_SECONDS: Final = 3600
LOW_SPACE_BYTES: Final = 1024**2
"""Less free space than this where an export is written counts as a full disk."""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Preview:
    """What the page shows before a download.

    Attributes
    ----------
    features : dict
        Features per layer (exact), in the order asked.
    bytes : int
        Size of the download (the zip, or the zipped Shapefile).
    exact : bool
        Whether ``bytes`` is the size of the written file (else an estimate).
    file_name : str
        The name the download will have.
    """

    features: dict[str, int]
    bytes: int
    exact: bool
    file_name: str

    @property
    def total(self) -> int:
        """Features over every layer."""
        return sum(self.features.values())


@dataclass(frozen=True)
class Prepared:
    """A written download: the file to send, its name (and its name without the area's
    Chinese names, for a plain ``filename``), size and features."""

    path: Path
    file_name: str
    bytes: int
    features: dict[str, int]
    area: Area
    ascii_name: str = ""


class ExportService:
    """Exports of one data directory, for the page's previews and downloads.

    Parameters
    ----------
    source : ReloadingSource
        The dashboard's data in service, followed: an export is computed from the very
        snapshot the map and the wall show (its tables, cubes and the zones of its cells),
        so an exported cell holds the map's number for it.
    layers : LayerCache, optional
        The map's layer cache: a layer the registry computes (the gap layer, change,
        emerging hot spots, the dose) is read through it, so the export of a layer the
        map has drawn (or the warm-up has computed) is that very result.
    """

    def __init__(self, source: ReloadingSource, layers: LayerCache | None = None) -> None:
        self._live = source
        self._layers = layers
        self.data_dir = source.current.data_dir
        self._lock = threading.RLock()
        self._bundles: OrderedDict[str, tuple[ExportBundle, Area]] = OrderedDict()
        self._files: OrderedDict[str, Prepared] = OrderedDict()
        self._dir: Path | None = None

    @property
    def source(self) -> Snapshot:
        """The data exports are computed from: the data in service."""
        return self._live.current

    # ------------------------------------------------------------------ inputs

    @property
    def precinct_ids(self) -> frozenset[str]:
        """Every precinct id of the data."""
        table = self.source.precincts
        return frozenset(table["precinct_id"].astype(str)) if len(table) else frozenset()

    @property
    def grid_precinct(self) -> dict[str, str]:
        """``{grid_id: precinct_id}`` of every grid."""
        table = self.source.grids
        if not len(table):
            return {}
        return dict(
            zip(table["grid_id"].astype(str), table["precinct_id"].astype(str), strict=True)
        )

    def inputs(self, layer: str, request: ExportRequest) -> ExportInputs:
        """What ``layer`` is computed from: the snapshot in service's tables, incidents
        cube and zones, and its patrol rows and visits of the request's window."""
        snapshot = self.source
        large = tuple(c for c in LAYERS[layer].cubes if c != "incidents")
        since, until = request.span(snapshot.last_day)
        inputs = snapshot_inputs(
            snapshot,
            cubes=("incidents", *large),
            since=since.to_pydatetime(),
            until=until.to_pydatetime(),
        )
        cache = self._layers
        if cache is None or not LAYERS[layer].snapshot:
            return inputs
        return replace(inputs, layer_result=lambda params: layer_result(snapshot, cache, params))

    # ------------------------------------------------------------------ bundles

    def _bundle_key(self, layer: str, request: ExportRequest, area: Area, scope: Scope) -> str:
        since, until = request.span(self.source.last_day)
        windowed = "window" in MAP_LAYERS[EXPORT_TO_MAP[layer]].filters
        return cache_key(
            "export-bundle",
            version=self.source.version,
            layer=layer,
            res=request.res,
            precincts=list(area.precincts),
            grids=list(area.grids),
            bbox=list(area.bbox) if area.bbox else None,
            since=since.isoformat() if windowed else "",
            until=until.isoformat() if windowed else "",
            cats=sorted(request.cats) if layer in CATEGORY_LAYERS else [],
            scheme=request.scheme if layer in SCHEME_LAYERS else "",
            band=request.band if layer in BAND_LAYERS else "all",
            kinds=sorted(request.kinds) if layer in KIND_LAYERS else [],
            fdr=request.fdr and layer in FDR_LAYERS,
            scope="county" if scope is None else sorted(scope),
            # A chief's file writes other precincts' units in the request's language.
            lang=request.lang if scope is not None else "",
        )

    @property
    def unit_precincts(self) -> dict[str, str | None]:
        """``{unit_id: precinct_id}`` of every response unit (None: in no precinct)."""
        snapshot = self.source
        units = snapshot.response_units
        if not len(units):
            return {}
        return dict(zip(units["unit_id"].astype(str), snapshot.unit_precincts, strict=True))

    def bundles(self, request: ExportRequest, scope: Scope) -> tuple[list[ExportBundle], Area]:
        """The request's layers, assembled by :func:`layers.export.build_export` (the
        map's functions) for its area within ``scope``; kept for the download.

        Raises
        ------
        ExportProblem
            For a request :func:`check_request` refuses, an area outside the scope, data
            a layer needs and the directory lacks, or a layer with no features.
        """
        check_request(request)
        area = resolve_area(
            request, scope, precincts=self.precinct_ids, grid_precinct=self.grid_precinct
        )
        out: list[ExportBundle] = []
        for layer in request.layers:
            key = self._bundle_key(layer, request, area, scope)
            with self._lock:
                found = self._bundles.get(key)
                if found is None:
                    found = (self._build(layer, request, area, scope), area)
                    self._bundles[key] = found
                    while len(self._bundles) > BUNDLE_SLOTS:
                        self._bundles.popitem(last=False)
                self._bundles.move_to_end(key)
            bundle = found[0]
            if bundle.features == 0:
                raise ExportProblem(
                    "export_empty", status=404, layer=layer_title(layer, request.lang)
                )
            out.append(bundle)
        return out, area

    def _build(self, layer: str, request: ExportRequest, area: Area, scope: Scope) -> ExportBundle:
        """The layer for the area, as the user of ``scope`` may read it: the rows of the
        area's cells, units of precincts outside the scope unnamed (as on the map)."""
        since, until = request.span(self.source.last_day)
        try:
            bundle = build_export(
                self.inputs(layer, request),
                layer=layer,
                res=request.res,
                since=since,
                until=until,
                precincts=area.precincts,
                grids=area.grids,
                categories=list(request.cats) if request.cats else None,
                scheme=request.scheme,  # type: ignore[arg-type]
                band=request.band if layer in BAND_LAYERS else None,
                unit_kinds=request.kinds if layer in KIND_LAYERS else None,
                fdr=request.fdr and layer in FDR_LAYERS,
            )
        except (LayerUnavailable, StoreError) as exc:
            raise ExportProblem(
                "export_unavailable", layer=layer_title(layer, request.lang), reason=str(exc)
            ) from None
        if area.bbox is not None:
            bundle = clip_to_view(bundle, area.bbox)
        if scope is None:
            return bundle
        label = OTHER_PRECINCT.text(request.lang)
        return hide_units(bundle, self.unit_precincts, scope, label=label)

    # ------------------------------------------------------------------ files

    def area_name(self, area: Area) -> AreaName:
        """The names and codes of an export's area: its precincts or grids, else the county
        (the data's area and its code)."""
        snapshot = self.source
        if area.precincts or area.grids:
            kind, ids = ("precincts", area.precincts) if area.precincts else ("grids", area.grids)
            table = getattr(snapshot, kind)
            id_col = f"{kind[:-1]}_id"
            names: dict[str, str] = {}
            if len(table) and "name" in table.columns:
                names = dict(zip(table[id_col].astype(str), table["name"].astype(str), strict=True))
            return AreaName(
                tuple(names.get(i, "") for i in ids), tuple(ids), view=area.bbox is not None
            )
        code = str((snapshot.manifest.get("area") or {}).get("code") or "")
        return AreaName((snapshot.area_name,), (code,) if code else (), view=area.bbox is not None)

    def file_name(self, request: ExportRequest, area: Area, *, ascii: bool = False) -> str:
        """The export's name: area (names and codes), layers, resolution, window (first
        and last day), CRS and format (:func:`layers.export.naming.export_name`)."""
        since, until = request.span(self.source.last_day)
        return export_name(
            self.area_name(area),
            request.layers,
            res=request.res,
            since=since,
            until=until,
            crs=request.crs,
            suffix=FORMATS[request.fmt].suffix,
            ascii=ascii,
        )

    def _workdir(self) -> Path:
        if self._dir is None:
            try:
                self._dir = Path(tempfile.mkdtemp(prefix="pnm-exports-"))
            except OSError as exc:
                if disk_full(exc, Path(tempfile.gettempdir())):
                    raise ExportProblem("export_disk_full", status=507) from None
                raise
            weakref.finalize(self, shutil.rmtree, self._dir, True)
        return self._dir

    def _file_key(self, request: ExportRequest, scope: Scope) -> str:
        return cache_key(
            "export-file",
            version=self.source.version,
            query=request.to_query(),
            scope="county" if scope is None else sorted(scope),
        )

    def _write(
        self, bundles: list[ExportBundle], request: ExportRequest, area: Area, target: Path
    ) -> None:
        """Write the bundles as the download ``target``: the zipped Shapefile as it is,
        any other format zipped with its sidecars (.qml, .metadata.json, .csvt)."""
        part = target.with_name(target.name + ".part")
        scratch: Path | None = None
        try:
            scratch = Path(tempfile.mkdtemp(prefix=".write-", dir=target.parent))
            name = self.file_name(request, area)
            written = write_export(
                bundles, scratch / name, fmt=request.fmt, crs=request.crs, lang=request.lang
            )
            if request.fmt == "shp":
                os.replace(written.path, part)
            else:
                with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                    for f in written.files:
                        zf.write(f, arcname=f.name)
            os.replace(part, target)
        except Exception as exc:
            part.unlink(missing_ok=True)
            if disk_full(exc, target.parent):
                log.error("export not written, no space left in %s: %s", target.parent, exc)
                raise ExportProblem("export_disk_full", status=507) from None
            if isinstance(exc, ExportError | ValueError):
                raise ExportProblem("export_failed", reason=" ".join(str(exc).split())) from None
            raise
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)

    def download_name(self, request: ExportRequest, area: Area, *, ascii: bool = False) -> str:
        """The name the browser saves: ``….gpkg.zip`` (file and sidecars), ``….zip`` for
        a Shapefile (already a zip); ``ascii``: without the area's Chinese names."""
        name = self.file_name(request, area, ascii=ascii)
        return name if request.fmt == "shp" else f"{name}.zip"

    def prepare(self, request: ExportRequest, scope: Scope) -> Prepared:
        """The download for ``request``: written once and kept (or written now).

        Raises
        ------
        ExportProblem
            As :meth:`bundles`, or when the file cannot be written.
        """
        check_request(request)
        resolve_area(request, scope, precincts=self.precinct_ids, grid_precinct=self.grid_precinct)
        key = self._file_key(request, scope)
        with self._lock:
            found = self._files.get(key)
            if found is not None and found.path.exists():
                self._files.move_to_end(key)
                return found
        bundles, area = self.bundles(request, scope)
        with self._lock:
            target = self._workdir() / f"{key.replace(':', '-')}.zip"
            self._write(bundles, request, area, target)
            prepared = Prepared(
                path=target,
                file_name=self.download_name(request, area),
                ascii_name=self.download_name(request, area, ascii=True),
                bytes=target.stat().st_size,
                features={b.layer: b.features for b in bundles},
                area=area,
            )
            self._files[key] = prepared
            self._prune()
        return prepared

    def _prune(self) -> None:
        """Forget files beyond :data:`FILE_SLOTS` or older than :data:`FILE_TTL_SECONDS`."""
        now = time.time()
        for key, item in list(self._files.items()):
            old = not item.path.exists() or now - item.path.stat().st_mtime > FILE_TTL_SECONDS
            if old or len(self._files) > FILE_SLOTS:
                item.path.unlink(missing_ok=True)
                del self._files[key]

    def preview(self, request: ExportRequest, scope: Scope) -> Preview:
        """The features (exact) and the size of the download; the file is written now
        unless it has more than :data:`PREPARE_LIMIT` features.

        Raises
        ------
        ExportProblem
            As :meth:`prepare`.
        """
        bundles, area = self.bundles(request, scope)
        features = {b.layer: b.features for b in bundles}
        if sum(features.values()) <= PREPARE_LIMIT:
            prepared = self.prepare(request, scope)
            return Preview(features, prepared.bytes, True, prepared.file_name)
        return Preview(
            features,
            self._estimate(bundles, request, area),
            False,
            self.download_name(request, area),
        )

    def _estimate(self, bundles: list[ExportBundle], request: ExportRequest, area: Area) -> int:
        """Bytes of the download, scaled from a sample of each layer's first features."""
        samples = [_head(b, SAMPLE_FEATURES) for b in bundles]
        with self._lock:
            target = self._workdir() / f"sample-{os.getpid()}-{threading.get_ident()}.zip"
            try:
                self._write(samples, request, area, target)
                size = target.stat().st_size
            finally:
                target.unlink(missing_ok=True)
        ratio = sum(b.features for b in bundles) / max(sum(s.features for s in samples), 1)
        return int(size * ratio)


def disk_full(exc: BaseException, folder: Path) -> bool:
    """Whether a failed write failed for want of space: ``ENOSPC``/``EDQUOT``, or any
    error (GDAL's own, for one) while ``folder`` has less than :data:`LOW_SPACE_BYTES`
    left."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < LOW_SPACE_BYTES


def _head(bundle: ExportBundle, n: int) -> ExportBundle:
    return ExportBundle(
        layer=bundle.layer,
        frame=bundle.frame.iloc[:n].reset_index(drop=True),
        geometry=np.asarray(bundle.geometry, dtype=object)[:n],
        fields=bundle.fields,
        metadata={**dict(bundle.metadata), "features": min(n, bundle.features)},
        style=bundle.style,
    )
