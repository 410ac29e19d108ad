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
    "basemap_offset": Label(
        "底图未加载：瓦片包 {file} 为 {datum} 坐标，与本图的 WGS84 数据相差数百米，请换用 WGS84 瓦片",
        "Basemap not shown: the tile package {file} is in {datum}, hundreds of metres off "
        "this map's WGS84 data; use WGS84 tiles",
    ),
    "basemap_unusable": Label(
        "底图未加载：瓦片包 {file} 无法使用（原因见日志）",
        "Basemap not shown: the tile package {file} cannot be used (the log says why)",
    ),
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
    "search": Label(
        "搜索乡镇、网格、小区，可输拼音…", "Search a township, grid or community, or pinyin…"
    ),
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
    "panel_fold": Label("收起或展开详情", "Fold or unfold the details"),
    "drawer_open": Label("图层与筛选", "Layers"),  # on a phone's narrow button
    "drawer_open_title": Label("打开图层与筛选", "Open layers & filters"),
    "drawer_close": Label("收起图层与筛选", "Close layers & filters"),
    "gap_list_fold": Label("收起或展开排名", "Fold or unfold the ranking"),
    "distance": Label("{m} 米", "{m} m"),
    "trend_axis": Label("每周警情", "incidents / week"),
    "county": Label("全县", "County"),
    "drill": Label("逐级下钻", "Drill down"),
    "drill_hint": Label(
        "点击地图逐级下钻：全县 → 派出所 → 网格 → 六边形",
        "Click the map to drill down: county → precinct → grid → hexagon",
    ),
    "at_risk": Label("称号存疑", "title at risk"),
    "fdr_title": Label("热点显著性", "Hot-spot significance"),
    "fdr_label": Label("错误发现率（多重检验）校正", "False Discovery Rate correction"),
    "fdr_note": Label(
        "对热点分析与时空热点趋势生效：按本杰明尼–霍赫伯格法校正多重比较（与专业地理信息软件的同名选项一致），显著六边形更少、更可靠；图例标题注明。",
        "Hot spots and emerging hot spots: Benjamini–Hochberg correction for testing many "
        "hexagons at once (ArcGIS's FDR option); fewer, surer hot spots; the legend says so.",
    ),
    # Wall screen (dashboard.pages.wall)
    "wall_title": Label("治安防控指挥大屏", "Prevention command wall"),
    "wall_loading": Label("正在载入数据…", "Loading data…"),
    "wall_today": Label("今日警情", "Incidents today"),
    "wall_week": Label("近7天警情", "Incidents, last 7 days"),
    "wall_today_since": Label("{date}（数据最后一天）", "{date} (the data's last day)"),
    "wall_week_since": Label("{date} 至 {until}", "{date} to {until}"),
    "wall_count_unit": Label("起", "incidents"),
    "wall_day_on_day": Label("日环比", "vs yesterday"),
    "wall_week_on_week": Label("环比前7天", "vs the 7 days before"),
    "wall_year_on_year": Label("同比", "vs last year"),
    "wall_change_new": Label("新发", "new"),
    "wall_change_none": Label("均为 0", "none either"),
    "wall_change_no_data": Label("无数据", "no data"),
    "wall_change_flat": Label("持平", "no change"),
    "wall_coverage": Label("热点巡逻达标率", "Hot spots patrolled"),
    "wall_coverage_line": Label(
        "{covered}/{cells} 个热点每天驻留≥30分钟（近30天）",
        "{covered} of {cells} hot spots ≥ 30 min a day (30 days)",
    ),
    "wall_koper": Label("热点巡防剂量", "Koper dose"),
    "wall_koper_line": Label(
        "{dosed}/{hours} 热点小时有效巡逻（近30天）",
        "{dosed} of {hours} hot-spot hours dosed (30 days)",
    ),
    "wall_gaps_figure": Label("防控缺口", "Protection gaps"),
    "wall_gaps_unit": Label("个六边形", "hexagons"),
    "wall_gaps_line": Label(
        "严重 {c4} · 较大 {c3} · 一般 {c2}", "critical {c4} · serious {c3} · moderate {c2}"
    ),
    "wall_certified": Label("平安创建率", "Safe communities"),
    "wall_certified_line": Label(
        "{certified}/{communities} 个已创建 · {at_risk} 个称号存疑",
        "{certified} of {communities} certified · {at_risk} at risk",
    ),
    "wall_none": Label("—", "—"),
    "wall_top_gaps": Label("最大的防控缺口", "Largest protection gaps"),
    "wall_no_gaps": Label("当前无防控缺口", "No protection gaps now"),
    "wall_footer": Label(
        "数据截至 {until} · 数据生成于 {built} · 刷新于 {now}",
        "Data to {until} · built {built} · refreshed {now}",
    ),
    "wall_stale": Label(
        "数据已 {age}未更新（生成于 {built}）", "Data not updated for {age} (built {built})"
    ),
    "wall_offline": Label(
        "与服务器的连接中断：显示的是 {time} 的画面，正在重试…",
        "Connection to the server lost: showing the picture of {time}; retrying…",
    ),
    "wall_minutes": Label("{n} 分钟", "{n} min"),
    "wall_hours": Label("{n} 小时", "{n} h"),
    "wall_days": Label("{n} 天", "{n} days"),
    # Sign-in and access (dashboard.auth, dashboard.pages.login)
    "auth_off_banner": Label("未启用登录（演示）", "Sign-in disabled (demo)"),
    "signed_in_as": Label("当前用户：{name}（{role}）", "Signed in: {name} ({role})"),
    "sign_out": Label("退出登录", "Sign out"),
    "sign_out_ask": Label("确定退出登录吗？", "Sign out of the dashboard?"),
    "signed_out": Label("您已退出登录", "You are signed out"),
    "role_commander": Label("指挥中心", "commander"),
    "role_chief": Label("派出所所长", "precinct chief"),
    "role_planner": Label("规划/勤务编排", "planner"),
    "role_wall": Label("大屏", "wall screen"),
    "login_title": Label("登录", "Sign in"),
    "login_name": Label("用户名", "User name"),
    "login_password": Label("密码", "Password"),
    "login_submit": Label("登录", "Sign in"),
    "login_failed": Label("用户名或密码错误", "Wrong user name or password"),
    "login_locked_name": Label(
        "此账号在本机登录失败次数过多，请于 {until} 后再试（约 {minutes} 分钟）",
        "Too many failed sign-ins for this name from this computer; "
        "try again after {until} (in about {minutes} min)",
    ),
    "login_locked_address": Label(
        "本机登录失败次数过多，请于 {until} 后再试（约 {minutes} 分钟）",
        "Too many failed sign-ins from this computer; "
        "try again after {until} (in about {minutes} min)",
    ),
    "login_expired": Label("页面已过期，请重新输入", "The form expired; please try again"),
    "login_proxy": Label(
        "请通过单位统一身份认证门户访问本系统", "Please sign in through the bureau's portal"
    ),
    "login_audit_down": Label(
        "审计日志无法写入，暂不能登录，请联系管理员",
        "The audit log cannot be written, so nobody can sign in; tell the administrator",
    ),
    "refused_title": Label("无权访问", "Access refused"),
    "refused_text": Label(
        "您的账号无权查看此页面或数据。", "Your account may not see this page or these data."
    ),
    "refused_home": Label("返回首页", "Back to the start page"),
    "cross_site_refused": Label(
        "已拒绝来自其他网站的请求：请在本系统的页面内操作。",
        "Refused: this request came from another site. Please use the dashboard's own pages.",
    ),
    "wall_token_bad": Label("大屏令牌无效或已停用", "The wall-screen token is invalid or revoked"),
    # Export page (dashboard.pages.export, dashboard.downloads)
    "export_link": Label("导出当前视图", "Export this view"),
    "export_title": Label("导出图层", "Export layers"),
    "export_intro": Label(
        "选择图层、范围、时间、坐标系和格式。文件可直接在 QGIS、ArcGIS 中打开，"
        "颜色和分级与地图一致（附 QGIS 样式和元数据）。",
        "Choose the layers, area, time, coordinate system and format. The file opens in "
        "QGIS or ArcGIS with the map's colours and classes (QGIS style and metadata included).",
    ),
    "export_back": Label("← 返回地图", "← Back to the map"),
    "export_layers": Label("图层（可多选）", "Layers (one or more)"),
    "export_res_note": Label(
        "所选图层最细可到 {res} 级", "The chosen layers can be exported down to res {res}"
    ),
    "export_area": Label("范围", "Area"),
    "export_area_county": Label("全县", "Whole county"),
    "export_area_scope": Label("本辖区（{n} 个派出所）", "My jurisdiction ({n} precincts)"),
    "export_area_precincts": Label("选定的派出所辖区", "Chosen precincts"),
    "export_area_grids": Label("选定的网格", "Chosen grids"),
    "export_area_view": Label("地图当前视图", "The map's current view"),
    "export_view_text": Label(
        "北纬 {south}°–{north}°，东经 {west}°–{east}°",
        "{south}°–{north}° N, {west}°–{east}° E",
    ),
    "export_pick_precincts": Label("选择派出所…", "Choose precincts…"),
    "export_pick_grids": Label("选择网格…", "Choose grids…"),
    "export_area_rule": Label(
        "六边形中心落在范围内即导出", "A hexagon is exported when its centre lies in the area"
    ),
    "export_window_note": Label(
        "1-3-5 处置圈与时间无关；其他图层按所选时间统计",
        "The 1-3-5 reach does not depend on time; the other layers count the chosen window",
    ),
    "export_cats_note": Label("类别用于：{layers}", "Categories apply to: {layers}"),
    "export_crs": Label("坐标系", "Coordinate system"),
    "crs_EPSG:4326": Label(
        "GPS 和奥维、谷歌地球用的经纬度，最通用；拿不准时选它",
        "Latitude/longitude as GPS and Google Earth give them; the safe choice when unsure",
    ),
    "crs_EPSG:4490": Label(
        "国家 2000 坐标系的经纬度，自然资源和测绘部门的标准",
        "China's national 2000 system in degrees, the standard of surveying and land agencies",
    ),
    "crs_EPSG:4545": Label(
        "国家 2000 的平面坐标（米），中央经线 108°E，东坐标不带带号；"
        "国土空间规划、测绘成果常用，可直接量距离和面积",
        "National 2000 flat coordinates in metres around 108°E, eastings without the zone "
        "number; what land-use plans and surveys use; measure distances and areas directly",
    ),
    "crs_EPSG:4524": Label(
        "与上一项相同，但东坐标前带带号 36（如 36 500 000 米）；按对方数据是否带带号选择",
        "As the one above, but eastings carry the zone number 36 (e.g. 36,500,000 m); "
        "match what the other data use",
    ),
    "crs_EPSG:3857": Label(
        "网络地图瓦片的投影（米），用于叠加网络底图；面积有变形，不宜量算",
        "The projection of web map tiles, in metres, for overlaying web basemaps; "
        "areas are distorted, do not measure with it",
    ),
    "crs_GCJ-02": Label(
        "高德、腾讯地图的加偏坐标，只用于叠加高德/腾讯底图；不能与其他坐标的数据混用",
        "The offset coordinates of AMap (Gaode) and Tencent maps, only for their basemaps; "
        "never mix with data in other systems",
    ),
    "export_format": Label("文件格式", "File format"),
    "fmt_gpkg": Label(
        "一个文件含全部图层、样式和元数据；QGIS、ArcGIS Pro 直接打开（推荐）",
        "One file with every layer, its style and metadata; opens in QGIS and ArcGIS Pro "
        "(recommended)",
    ),
    "fmt_shp": Label(
        "ArcMap 等老软件通用；字段名截为 10 个字符（对照表在压缩包内）；一次一个图层",
        "For ArcMap and older software; field names cut to 10 characters (mapping in the "
        "zip); one layer at a time",
    ),
    "fmt_geojson": Label(
        "网页和程序常用；按标准只能是 WGS84 经纬度；一次一个图层",
        "For the web and scripts; by its standard WGS84 only; one layer at a time",
    ),
    "fmt_csv": Label(
        "Excel 可打开：六边形编号、中心点经纬度、WKT 几何和全部数值；一次一个图层",
        "Opens in Excel: hexagon id, centre lon/lat, WKT geometry and every value; "
        "one layer at a time",
    ),
    "fmt_parquet": Label(
        "数据分析用（Python、DuckDB），文件最小；一次一个图层",
        "For analysis (Python, DuckDB), the smallest file; one layer at a time",
    ),
    "fmt_fgb": Label(
        "大文件显示快，QGIS 支持；一次一个图层",
        "Fast to display when large, read by QGIS; one layer at a time",
    ),
    "export_preview": Label("导出内容", "What will be exported"),
    "export_features": Label("共 {total} 个要素（六边形）", "{total} features (hexagons)"),
    "export_layer_count": Label("{layer}：{n} 个", "{layer}: {n}"),
    "export_size_exact": Label("下载文件 {size}", "Download size {size}"),
    "export_size_estimate": Label(
        "下载文件约 {size}（估算，下载时生成）",
        "Download size ≈ {size} (estimated; written when downloaded)",
    ),
    "export_file_zip": Label(
        "{name}（压缩包，内含数据文件、QGIS 样式 .qml 和元数据）",
        "{name} (a zip holding the data file, the QGIS style .qml and the metadata)",
    ),
    "export_file_shp": Label(
        "{name}（Shapefile 压缩包，内含 .shp/.dbf/.prj/.cpg、样式和元数据）",
        "{name} (zipped Shapefile with .shp/.dbf/.prj/.cpg, style and metadata)",
    ),
    "export_download": Label("下载", "Download"),
    "export_logged": Label(
        "每次下载都记入审计日志（谁、何时、导出什么、多少要素）。",
        "Every download is recorded in the audit log (who, when, what, how many features).",
    ),
    "export_kinds_note": Label(
        "巡逻力量用于：{layers}（巡逻覆盖所选每类一列）；不选即全部力量",
        "Unit kinds apply to: {layers} (patrol coverage: one column per kind chosen); "
        "none chosen: all",
    ),
    "export_band_note": Label(
        "时段用于：{layers}，与地图的时段筛选相同",
        "The time of day applies to: {layers}, as on the map",
    ),
    "export_fdr_note": Label(
        "用于：{layers}，与地图的同名开关相同；文件的元数据注明",
        "Applies to: {layers}, as the map's switch; the file's metadata says so",
    ),
    "export_no_layer": Label("请至少选择一个图层。", "Choose at least one layer."),
    "export_res_too_fine": Label(
        "“{layer}”最细只能导出到 {res} 级，请选较大的六边形。",
        "“{layer}” can be exported down to res {res} only; choose larger hexagons.",
    ),
    "export_res_too_coarse": Label(
        "“{layer}”最粗只能导出到 {res} 级（地图也只在这些级别绘制），请选较小的六边形。",
        "“{layer}” can be exported from res {res} only (as the map draws it); choose "
        "smaller hexagons.",
    ),
    "export_geojson_crs": Label(
        "GeoJSON 按标准（RFC 7946）只能用 WGS84 经纬度，不能用“{crs}”。"
        "请把坐标系改为 WGS84，或改用 GeoPackage、FlatGeobuf、GeoParquet。",
        "GeoJSON is WGS84 longitude/latitude only (RFC 7946), not “{crs}”. Choose WGS84, "
        "or GeoPackage, FlatGeobuf or GeoParquet for that coordinate system.",
    ),
    "export_one_layer": Label(
        "{fmt} 一个文件只能放一个图层（已选 {n} 个）：请改用 GeoPackage，或逐个导出。",
        "{fmt} holds one layer per file ({n} chosen): use GeoPackage, or export them one by one.",
    ),
    "export_no_precinct": Label("请选择至少一个派出所。", "Choose at least one precinct."),
    "export_no_grid": Label("请选择至少一个网格。", "Choose at least one grid."),
    "export_no_view": Label(
        "没有地图视图的范围：请从地图页的“导出当前视图”进入，或选择其他范围。",
        "No map view is known: open this page with the map's “Export this view”, or choose "
        "another area.",
    ),
    "export_out_of_scope": Label(
        "超出您的辖区，不能导出：{ids}", "Outside your jurisdiction, not exported: {ids}"
    ),
    "export_bad_value": Label("无效的参数 {name}：{value}", "Invalid parameter {name}: {value}"),
    "export_empty": Label(
        "所选范围和时间内，“{layer}”没有任何要素：没有可下载的文件。",
        "“{layer}” has no features in the chosen area and window: there is nothing to download.",
    ),
    "export_unavailable": Label(
        "“{layer}”所需的数据缺失：{reason}", "“{layer}” lacks the data it needs: {reason}"
    ),
    "export_failed": Label("导出失败：{reason}", "Export failed: {reason}"),
    "export_disk_full": Label(
        "服务器磁盘空间已满，导出文件无法写出，未导出任何文件；请联系管理员清理空间后重试。",
        "The server's disk is full, so the export file could not be written and nothing was "
        "exported; ask the administrator to free space, then try again.",
    ),
    "export_audit_failed": Label(
        "审计日志无法写入，因此没有导出任何文件；请联系管理员。",
        "The audit log cannot be written, so nothing was exported; tell the administrator.",
    ),
    # Map layers: gap list and the layer sections of the side panel
    "gap_list_title": Label("防控缺口排名", "Ranked protection gaps"),
    "gap_list_note": Label(
        "前 {n} 位 · {res} 级六边形 · 按缺口分值排序，点击定位",
        "Top {n} · res-{res} hexagons · by gap score; click to fly there",
    ),
    "gap_list_empty": Label(
        "当前时间范围和筛选下无防控缺口", "No protection gaps for this window and these filters"
    ),
    "gap_list_place": Label("{precinct} · {grid}", "{grid}, {precinct}"),
    "gap_why": Label("缺口原因", "Why it is a gap"),
    "gap_score": Label(
        "缺口分值 {gap}（全辖区第 {rank}/{cells} 位）", "Gap score {gap} (rank {rank} of {cells})"
    ),
    "gap_risk_parts": Label("风险构成（0–1）", "Risk parts (0–1)"),
    "gap_protection_parts": Label("防护构成（0–1）", "Protection parts (0–1)"),
    "gap_part_left_out": Label("未计入", "left out"),
    "gap_no_reason": Label(
        "风险低或防护足，无缺口原因", "Low risk or enough protection: no reason"
    ),
    "zone_coverage": Label("巡逻覆盖率", "Patrol coverage"),
    "zone_coverage_note": Label(
        "每天驻留 ≥ {standard} 分钟的 9 级六边形占比",
        "Share of res-9 hexagons with {standard}+ min of dwell a day",
    ),
    "zone_coverage_value": Label(
        "{pct}%（{covered}/{cells} 个）", "{pct} % ({covered} of {cells})"
    ),
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
