"""Zipped Shapefile exports: short field names with their mapping, UTF-8 text, ``.prj``.

A dBASE field name holds at most 10 characters. Each column is written under the short
name its layer gives it (:attr:`FieldInfo.short`, from the export's one table of
columns, :data:`layers.export.fields.COLUMNS`: ``dwell_min_police_car`` → ``dwl_car``);
a column without one keeps a name of 10 characters or fewer, or is shortened word by
word (:data:`WORDS`, then cut), and any clash is made unique with a numeric suffix in
the order of the columns — the same names for the same columns in every file. The
mapping travels in the metadata sidecar (``field_names``, and ``fields`` with each
field's full name and meaning), in ``README.txt`` (field → full name → meaning, zh and
en) and as the QGIS aliases in the ``.qml``. Text is UTF-8 and the ``.cpg`` says so, so
Chinese labels survive in QGIS and ArcGIS. The zip holds ``<name>.shp``, ``.shx``,
``.dbf``, ``.prj``, ``.cpg``, ``<name>.qml``, ``<name>.metadata.json`` and
``README.txt``.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyogrio

from geodata.writers.bundle import ExportBundle
from geodata.writers.crs import ExportCrs
from geodata.writers.frames import to_geoframe
from geodata.writers.qml import qml_document

MAX_NAME: Final = 10

WORDS: Final[dict[str, str]] = {
    "certified": "cert",
    "change": "chg",
    "class": "cls",
    "count": "n",
    "distance": "dist",
    "dwell": "dwl",
    "households": "hh",
    "minutes": "min",
    "nearest": "near",
    "per": "p",
    "population": "pop",
    "protection": "prot",
    "share": "shr",
    "volunteers": "vol",
}
"""Words shortened in a long column name the layer gives no short name for."""


def _shorten(name: str) -> str:
    if len(name) <= MAX_NAME:
        return name
    words = [WORDS.get(w, w) for w in name.split("_")]
    return "_".join(w for w in words if w)[:MAX_NAME].rstrip("_")


def short_names(names: Sequence[str], given: Mapping[str, str] | None = None) -> dict[str, str]:
    """A field name of at most 10 characters for each name, unique ignoring case.

    Parameters
    ----------
    names : sequence of str
        Column names, in order.
    given : mapping, optional
        ``{name: short name}`` the layer chose (its fields' :attr:`FieldInfo.short`);
        the others are shortened by rule (:data:`WORDS`, then cut to 10).

    Returns
    -------
    dict
        ``{name: short name}``, in the order of ``names``.
    """
    chosen = dict(given or {})
    taken: set[str] = set()
    out: dict[str, str] = {}
    for name in names:
        base = (chosen.get(name) or _shorten(name))[:MAX_NAME]
        candidate, n = base, 1
        while candidate.lower() in taken:
            n += 1
            suffix = f"_{n}"
            candidate = base[: MAX_NAME - len(suffix)] + suffix
        taken.add(candidate.lower())
        out[name] = candidate
    return out


README: Final = "README.txt"
MAX_DECIMALS: Final = 15
"""GDAL's default precision of a dBASE real field (width 24, 15 decimals)."""


def tidy_decimals(dbf: Path) -> dict[str, int]:
    """Give each real field of a dBASE file the fewest decimals that hold its values.

    GDAL writes every float column as ``N(24,15)``, so a dwell rounded to 44.5 min reads
    ``44.500000000000000`` in ArcGIS and QGIS, and 38.23 reads ``38.229999999999997``:
    the rounding the export did is lost on screen. Each real field's values are
    rewritten with the decimal count that represents all of them exactly (1 for minutes,
    2 for z, 4 for p-values; an unrounded column keeps 15), in place: the field widths
    and record length stay as written.

    Returns
    -------
    dict
        ``{field: decimals}`` of the real fields rewritten.
    """
    data = bytearray(dbf.read_bytes())
    count = int.from_bytes(data[4:8], "little")
    header = int.from_bytes(data[8:10], "little")
    record = int.from_bytes(data[10:12], "little")
    fields: list[tuple[str, int, int, int, int]] = []  # name, descriptor, offset, width, dec
    offset, at = 1, 32  # a record starts with its deletion flag
    while at < header - 1 and data[at] != 0x0D:
        name = bytes(data[at : at + 11]).split(b"\0", 1)[0].decode("ascii", "replace")
        kind, width, dec = chr(data[at + 11]), data[at + 16], data[at + 17]
        if kind in "NF" and dec > 0:
            fields.append((name, at, offset, width, dec))
        offset += width
        at += 32
    if not count or not fields:
        return {}
    rows = np.frombuffer(bytes(data), dtype=np.uint8, count=count * record, offset=header)
    rows = rows.reshape(count, record).copy()
    out: dict[str, int] = {}
    for name, at, start, width, _ in fields:
        cells = np.char.strip(rows[:, start : start + width].copy().view(f"S{width}").ravel())
        filled = (cells != b"") & ~np.char.startswith(cells, b"*")  # GDAL's null: blank or *
        known = cells[filled].astype(np.float64)
        if not known.size:
            continue  # no value to go by: left as GDAL wrote it
        decimals = next(
            (d for d in range(MAX_DECIMALS) if np.array_equal(np.round(known, d), known)),
            MAX_DECIMALS,
        )
        written = np.char.rjust(cells, width).astype(f"S{width + 1}")
        written[filled] = np.char.mod(f"%{width}.{decimals}f", known).astype(f"S{width + 1}")
        if int(np.char.str_len(written).max()) > width:
            continue  # never wider than GDAL made the field
        rows[:, start : start + width] = (
            written.astype(f"S{width}").view(np.uint8).reshape(count, width)
        )
        data[at + 17] = decimals
        out[name] = decimals
    data[header : header + count * record] = rows.tobytes()
    dbf.write_bytes(bytes(data))
    return out


def readme(bundle: ExportBundle, names: Mapping[str, str], metadata: Mapping[str, Any]) -> str:
    """The zip's ``README.txt``: what the file is, and each Shapefile field with its full
    column name, unit and meaning in Chinese and English (tab-separated)."""
    title = metadata.get("title") or {}
    lines = [
        f"{title.get('zh', bundle.layer)} / {title.get('en', bundle.layer)}",
        f"{bundle.layer}.shp: {bundle.features} features; "
        "字段名最长10个字符（dBASE），对照表如下 / "
        "dBASE field names hold 10 characters at most; the full names:",
        "",
        "\t".join(["field", "full_name", "unit", "zh", "en", "description"]),
    ]
    for f in bundle.fields:
        row = [names[f.name], f.name, f.unit, f.zh, f.en, f.description]
        lines.append("\t".join(" ".join(str(v).split()) for v in row))
    lines += ["", f"metadata: {bundle.layer}.metadata.json; QGIS style: {bundle.layer}.qml", ""]
    return "\n".join(lines)


def write_shapefile_zip(
    bundle: ExportBundle,
    path: Path,
    target: ExportCrs,
    *,
    workdir: Path,
    metadata: dict[str, Any],
    lang: str,
) -> dict[str, str]:
    """Write one layer as a zipped Shapefile with its style and metadata inside.

    Parameters
    ----------
    bundle : ExportBundle
        The layer.
    path : Path
        The zip file to create.
    target : ExportCrs
        The CRS of the hexagons (written to the ``.prj``).
    workdir : Path
        An empty scratch folder for the loose files.
    metadata : dict
        The complete metadata; the field-name mapping is added to the copy in the zip.
    lang : str
        Language of the style's labels.

    Returns
    -------
    dict
        The field-name mapping, ``{name: short name}``.
    """
    given = {f.name: f.short for f in bundle.fields if f.short}
    names = short_names([str(c) for c in bundle.frame.columns], given)
    frame = to_geoframe(bundle, target).rename(columns=names)
    shp = workdir / f"{bundle.layer}.shp"
    pyogrio.write_dataframe(frame, shp, driver="ESRI Shapefile", encoding="UTF-8")
    tidy_decimals(shp.with_suffix(".dbf"))
    (workdir / f"{bundle.layer}.qml").write_text(
        qml_document(bundle.style, bundle.fields, lang=lang, names=names), encoding="utf-8"
    )
    fields = [{"shapefile_field": names[f.name], **f.as_dict()} for f in bundle.fields]
    meta = {**metadata, "field_names": names, "fields": fields}
    (workdir / f"{bundle.layer}.metadata.json").write_text(
        json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    (workdir / README).write_text(readme(bundle, names, metadata), encoding="utf-8")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for member in sorted(workdir.iterdir()):
            zf.write(member, arcname=member.name)
    return names
