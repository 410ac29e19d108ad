"""Every label on the dashboard, in zh-CN (default) and English, from one table.

A screen is rendered in one language at a time, never mixed. Vocabulary labels (incident
categories, unit kinds, …) come from ``geodata.schema`` so the map, the importer and the
exports name things the same way.
"""

from __future__ import annotations

from collections.abc import Mapping

from geodata.schema import INCIDENT_CATEGORIES, Label

LANGUAGES = ("zh", "en")

TEXT: dict[str, Label] = {
    "app_title": Label("治安防控网络地图", "Prevention-network map"),
    "page_title": Label("{area} · 治安防控网络地图", "{area} · Prevention-network map"),
    "synthetic_banner": Label(
        "演示数据（合成），非真实警情", "Demo data (synthetic), not real incidents"
    ),
    "language": Label("语言", "Language"),
    "filters": Label("筛选", "Filters"),
    "categories": Label("警情类别", "Incident categories"),
    "all_categories": Label("全部类别", "All categories"),
    "resolution": Label("六边形尺寸（H3 级别）", "Hexagon size (H3 resolution)"),
    "resolution_auto": Label("自动（{res} 级）", "Automatic (res {res})"),
    "resolution_option": Label("{res} 级 · 边长约 {edge}", "res {res} · edge ≈ {edge}"),
    "window": Label("时间范围", "Time window"),
    "window_days": Label(
        "近 {days} 天（截至数据最后一天）", "Last {days} days (to the data's last day)"
    ),
    "window_range": Label("{since} 至 {until}", "{since} to {until}"),
    "heat_title": Label("警情数", "Incidents"),
    "heat_unit": Label("起 / 六边形", "per hexagon"),
    "heat_summary": Label(
        "{cells} 个六边形，共 {total} 起警情",
        "{total} incidents in {cells} hexagons",
    ),
    "heat_empty": Label("所选范围内无警情", "No incidents in the selection"),
    "outlines": Label("边界", "Boundaries"),
    "area_outline": Label("县界", "County boundary"),
    "precinct_outline": Label("派出所辖区", "Precincts"),
    "grid_outline": Label("网格", "Grids"),
    "legend": Label("图例", "Legend"),
    "data_note": Label("数据说明", "About the data"),
}


def lang_of(value: str | None, default: str = "zh") -> str:
    """A supported language code from a query value such as ``"en"`` or ``"zh-CN"``."""
    if not value:
        return default
    code = value.strip().lower().split("-")[0].split("_")[0]
    return code if code in LANGUAGES else default


def t(key: str, lang: str, **values: object) -> str:
    """The label ``key`` in ``lang``, with ``{name}`` fields filled from ``values``."""
    try:
        label = TEXT[key]
    except KeyError:
        raise KeyError(f"no label {key!r} in dashboard.i18n.TEXT") from None
    text = label.text(lang)
    return text.format(**values) if values else text


def category_options(lang: str) -> list[dict[str, str]]:
    """Options of the incident-category filter: code as value, label in ``lang``."""
    return [
        {"value": code, "label": label.text(lang)} for code, label in INCIDENT_CATEGORIES.items()
    ]


def note_text(note: object, lang: str) -> str:
    """A manifest note in ``lang``: a ``{"zh": …, "en": …}`` mapping or a plain string."""
    if isinstance(note, Mapping):
        return str(note.get(lang) or note.get("zh") or note.get("en") or "")
    return str(note) if note else ""
