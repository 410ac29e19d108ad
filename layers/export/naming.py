"""The name of an export's file: the area, the layer, the resolution, the window and the CRS.

``东乡派出所-511722001-gaps-res9-20261101-20261130-EPSG4490.gpkg``: the precinct (or grid,
or county) by name and code, so two chiefs' files never share a name, then the layers,
the H3 resolution, the first and last day of the window (both included) and the
coordinate system. The name is safe on every system — none of ``/\\:*?"<>|``, no control
characters, no leading dot or space — and ``ascii=True`` gives the same name without its
Chinese part, for the HTTP header's plain ``filename`` (the full one travels as the
RFC 5987 ``filename*``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import pandas as pd

UNSAFE: Final = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f\s]+')
"""Characters no file name may hold on Windows, macOS or Linux, and white space."""
MAX_PART: Final = 48
"""Characters kept of a name (a long list of precincts is cut)."""
LISTED: Final = 3
"""Areas (and layers) named one by one; more are "东乡派出所等5处" with the first code and
a count ("10layers")."""


def safe_part(text: str) -> str:
    """``text`` with every unsafe run replaced by ``_``, trimmed and cut to :data:`MAX_PART`."""
    return UNSAFE.sub("_", str(text)).strip("._-")[:MAX_PART].strip("._-")


@dataclass(frozen=True)
class AreaName:
    """What an export covers, as its file name says it: names and codes of the chosen
    precincts or grids, or the county's name and code; ``view`` for a map view."""

    names: tuple[str, ...]
    codes: tuple[str, ...]
    view: bool = False

    def label(self) -> str:
        """The names: one to :data:`LISTED` joined by ``+``, else the first and a count."""
        names = [n for n in self.names if n]
        if len(names) > LISTED:
            return f"{names[0]}等{len(names)}处"
        return "+".join(names)

    def code(self) -> str:
        """The codes: one to :data:`LISTED` joined by ``+``, else the first and a count."""
        if len(self.codes) > LISTED:
            return f"{self.codes[0]}+{len(self.codes) - 1}"
        return "+".join(self.codes)


def crs_part(crs: str) -> str:
    """``EPSG:4490`` → ``EPSG4490``, ``GCJ-02`` → ``GCJ02``."""
    return re.sub(r"[^A-Za-z0-9]", "", crs)


def export_name(
    area: AreaName,
    layers: Sequence[str],
    *,
    res: int,
    since: pd.Timestamp,
    until: pd.Timestamp,
    crs: str,
    suffix: str,
    ascii: bool = False,
) -> str:
    """The file name of an export (``suffix`` with its dot, e.g. ``.gpkg``).

    ``since``/``until`` are the half-open window; the name gives its first and last day.
    ``ascii`` leaves out the area's names unless they are ASCII (the codes stay).
    """
    last = pd.Timestamp(until) - pd.Timedelta(days=1)
    label = safe_part(area.label())
    parts = [
        label if label.isascii() or not ascii else "",
        safe_part(area.code()),
        "view" if area.view else "",
        safe_part("+".join(layers) if len(layers) <= LISTED else f"{len(layers)}layers"),
        f"res{int(res)}",
        f"{pd.Timestamp(since):%Y%m%d}-{last:%Y%m%d}",
        crs_part(crs),
    ]
    return "-".join(p for p in parts if p) + suffix


__all__ = ["AreaName", "crs_part", "export_name", "safe_part"]
