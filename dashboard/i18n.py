"""Every label on the dashboard, in zh-CN (default) and English, from one table.

A screen is rendered in one language at a time, never mixed. Vocabulary labels (incident
categories, unit kinds, …) come from ``geodata.schema`` so the map, the importer and the
exports name things the same way.
"""

from __future__ import annotations

from collections.abc import Mapping

from geodata.schema import INCIDENT_CATEGORIES, UNIT_KINDS, Label

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
    "resolution_follow": Label("自动（随缩放）", "Automatic (follows the zoom)"),
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
    "layer": Label("图层", "Layer"),
    "window_today": Label("今天", "Today"),
    "window_7d": Label("近 7 天", "Last 7 days"),
    "window_30d": Label("近 30 天", "Last 30 days"),
    "window_quarter": Label("本季度", "This quarter"),
    "window_custom": Label("自定义", "Custom"),
    "window_note": Label("以数据最后一天为“今天”", "'Today' is the data's last day"),
    "date_start": Label("开始日期", "Start date"),
    "date_end": Label("结束日期", "End date"),
    "playback": Label("时间回放", "Playback"),
    "play_off": Label("整个时段", "Whole window"),
    "play_day": Label("逐日", "Day by day"),
    "play_week": Label("逐周", "Week by week"),
    "play": Label("播放", "Play"),
    "pause": Label("暂停", "Pause"),
    "frame_text": Label("第 {i}/{n} 段：{since} 至 {until}", "Frame {i}/{n}: {since} to {until}"),
    "unit_kinds": Label("巡逻力量", "Patrol unit kinds"),
    "all_kinds": Label("全部力量", "All unit kinds"),
    "band": Label("时段", "Time of day"),
    "band_all": Label("全天", "All day"),
    "band_day": Label("白天 06–18 时", "Day 06–18 h"),
    "band_evening": Label("傍晚 18–22 时", "Evening 18–22 h"),
    "band_night": Label("夜间 22–06 时", "Night 22–06 h"),
    "scheme": Label("分级方法", "Classification"),
    "scheme_natural_breaks": Label("自然断点", "Natural breaks"),
    "scheme_quantiles": Label("分位数", "Quantiles"),
    "scheme_equal_interval": Label("等间距", "Equal interval"),
    "res_auto_text": Label(
        "当前 {res} 级 · 边长约 {edge}（随缩放）", "Now res {res} · edge ≈ {edge} (follows zoom)"
    ),
    "res_fixed_text": Label("当前 {res} 级 · 边长约 {edge}", "Now res {res} · edge ≈ {edge}"),
    "search": Label("搜索乡镇、网格、小区…", "Search a township, grid or community…"),
    "no_match": Label("无匹配地点", "No matching place"),
    "legend_nodata": Label("无数据", "No data"),
    "panel_title": Label("六边形 {cell}", "Hexagon {cell}"),
    "panel_res": Label("H3 {res} 级", "H3 res {res}"),
    "panel_why": Label("颜色依据", "Why this colour"),
    "panel_trend": Label("近一年每周警情", "Weekly incidents, last year"),
    "panel_communities": Label("附近小区/村社（1.5 公里内）", "Communities nearby (within 1.5 km)"),
    "panel_units": Label("最近的应急处置单元", "Nearest response units"),
    "panel_none": Label("无", "None"),
    "panel_close": Label("关闭", "Close"),
    "distance": Label("{m} 米", "{m} m"),
    "trend_axis": Label("每周警情", "incidents / week"),
    "county": Label("全县", "County"),
    "drill": Label("逐级下钻", "Drill down"),
    "drill_hint": Label(
        "点击地图逐级下钻：全县 → 派出所 → 网格 → 六边形",
        "Click the map to drill down: county → precinct → grid → hexagon",
    ),
    "at_risk": Label("称号存疑", "title at risk"),
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


def kind_options(lang: str) -> list[dict[str, str]]:
    """Options of the patrol unit-kind filter: code as value, label in ``lang``."""
    return [{"value": code, "label": label.text(lang)} for code, label in UNIT_KINDS.items()]


def note_text(note: object, lang: str) -> str:
    """A manifest note in ``lang``: a ``{"zh": …, "en": …}`` mapping or a plain string."""
    if isinstance(note, Mapping):
        return str(note.get(lang) or note.get("zh") or note.get("en") or "")
    return str(note) if note else ""
