"""Data contracts: one schema per data set of the prevention network.

Every reader, the demo builder, the cube build and the layers speak these column names and
these codes. Labels come in zh-CN (default) and en. Header aliases let a Chinese
spreadsheet (经度, 纬度, 发生时间, 警情类别, …) map onto the schema without a mapping file.

Times are naive timestamps in China Standard Time (UTC+8, no daylight saving): police
systems record local time, and one fixed offset keeps hour buckets unambiguous.
Coordinates in the store are always WGS84 longitude/latitude (EPSG:4326).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DType = Literal["str", "int", "float", "datetime", "date", "lng", "lat", "geometry"]
GeometryKind = Literal["polygon", "point", "none"]


@dataclass(frozen=True)
class Label:
    """A display label in both languages."""

    zh: str
    en: str

    def text(self, lang: str = "zh") -> str:
        """Return the label in ``lang`` ("zh" or "en")."""
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class Column:
    """One column of a data set.

    ``allowed`` names a vocabulary (a key of :data:`VOCABULARIES`) whose codes are the only
    accepted values. ``aliases`` are header names accepted on import, matched after
    stripping blanks and ignoring case.
    """

    name: str
    dtype: DType
    required: bool
    label: Label
    aliases: tuple[str, ...] = ()
    allowed: str | None = None
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Dataset:
    """A data set: its columns, its key and how its geometry is stored.

    ``geometry`` is "polygon" for areas (GeoParquet with a geometry column), "point" for
    tables located by ``lng``/``lat`` columns (plain Parquet, fast to scan), "none" for
    tables without a location of their own.
    """

    kind: str
    label: Label
    key: str | None
    geometry: GeometryKind
    columns: tuple[Column, ...] = field(default_factory=tuple)

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the required columns."""
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        """Return the column called ``name``; KeyError if the schema has none."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.kind} has no column {name!r}")


# Vocabularies: code -> label. Codes are stable English identifiers; labels are for people.
INCIDENT_CATEGORIES: dict[str, Label] = {
    "theft": Label("盗窃", "Theft"),
    "robbery": Label("抢劫抢夺", "Robbery and snatching"),
    "fraud": Label("诈骗", "Fraud"),
    "telecom_fraud": Label("电信网络诈骗", "Telecom and online fraud"),
    "gang_crime": Label("涉黑涉恶", "Gang and organised crime"),
    "sextortion_loan": Label("裸聊敲诈与套路贷", "Sextortion and predatory loans"),
    "trafficking": Label("拐卖及跨境犯罪", "Trafficking and cross-border crime"),
    "weapons_terror": Label("涉枪涉爆涉恐", "Guns, explosives and terrorism"),
    "gambling": Label("赌博", "Gambling"),
    "drugs": Label("涉毒", "Drugs"),
    "dispute": Label("矛盾纠纷", "Disputes"),
    "assault": Label("打架斗殴", "Fights and assault"),
    "other": Label("其他警情", "Other"),
}

INCIDENT_SOURCES: dict[str, Label] = {
    "call_110": Label("110接警", "110 call"),
    "patrol": Label("巡逻发现", "Found on patrol"),
    "walk_in": Label("来所报案", "Reported at station"),
    "online": Label("网上报警", "Online report"),
    "referral": Label("部门移交", "Referral"),
}

SEVERITIES: dict[str, Label] = {
    "1": Label("一般", "Minor"),
    "2": Label("较重", "Serious"),
    "3": Label("重大", "Major"),
}

UNIT_KINDS: dict[str, Label] = {
    "police_car": Label("巡逻警车", "Police car"),
    "foot_patrol": Label("徒步巡逻", "Foot patrol"),
    "volunteer_patrol": Label("义务巡逻队", "Volunteer patrol"),
    "red_armband": Label("红袖标", "Red armband"),
    "security_guard": Label("保安巡防", "Security guard"),
}

COMMUNITY_KINDS: dict[str, Label] = {
    "compound": Label("小区", "Residential compound"),
    "village": Label("村社", "Village"),
    "unit": Label("单位", "Work unit"),
}

COMMUNITY_STATUSES: dict[str, Label] = {
    "certified": Label("已创建", "Certified"),
    "in_progress": Label("创建中", "In progress"),
    "not_started": Label("未启动", "Not started"),
}

RESPONSE_UNIT_KINDS: dict[str, Label] = {
    "police_station": Label("派出所", "Police station"),
    "patrol_post": Label("巡逻警务站", "Patrol post"),
    "community_unit": Label("社区应急处置单元", "Community response unit"),
    "enterprise_unit": Label("单位内保应急单元", "Enterprise security unit"),
}

VOCABULARIES: dict[str, dict[str, Label]] = {
    "incident_category": INCIDENT_CATEGORIES,
    "incident_source": INCIDENT_SOURCES,
    "severity": SEVERITIES,
    "unit_kind": UNIT_KINDS,
    "community_kind": COMMUNITY_KINDS,
    "community_status": COMMUNITY_STATUSES,
    "response_unit_kind": RESPONSE_UNIT_KINDS,
}


def _c(
    name: str,
    dtype: DType,
    required: bool,
    zh: str,
    en: str,
    *aliases: str,
    allowed: str | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
) -> Column:
    return Column(
        name, dtype, required, Label(zh, en), (zh, en, *aliases), allowed, minimum, maximum
    )


_LNG = ("经度", "Longitude", "lng", "lon", "long", "x", "经度坐标", "东经")
_LAT = ("纬度", "Latitude", "lat", "y", "纬度坐标", "北纬")


def _lng(required: bool = True) -> Column:
    return _c("lng", "lng", required, *_LNG, minimum=-180.0, maximum=180.0)


def _lat(required: bool = True) -> Column:
    return _c("lat", "lat", required, *_LAT, minimum=-90.0, maximum=90.0)


AREA = Dataset(
    "area",
    Label("辖区边界", "Area boundary"),
    key="code",
    geometry="polygon",
    columns=(
        _c("code", "str", True, "行政区划代码", "Code", "adcode", "区划代码", "代码"),
        _c("name", "str", True, "名称", "Name", "区县名称"),
        _c("geometry", "geometry", True, "几何", "Geometry", "geom", "wkt"),
    ),
)

PRECINCTS = Dataset(
    "precincts",
    Label("派出所辖区", "Precincts"),
    key="precinct_id",
    geometry="polygon",
    columns=(
        _c("precinct_id", "str", True, "派出所编号", "Precinct ID", "辖区编号", "编号", "id"),
        _c("name", "str", True, "派出所名称", "Precinct name", "名称", "派出所"),
        _c("geometry", "geometry", True, "几何", "Geometry", "geom", "wkt"),
    ),
)

GRIDS = Dataset(
    "grids",
    Label("网格", "Management grids"),
    key="grid_id",
    geometry="polygon",
    columns=(
        _c("grid_id", "str", True, "网格编号", "Grid ID", "网格编码", "编号", "id"),
        _c("name", "str", True, "网格名称", "Grid name", "名称"),
        _c("precinct_id", "str", True, "派出所编号", "Precinct ID", "所属派出所", "辖区编号"),
        _c("population", "int", False, "实有人口", "Population", "人口", minimum=0),
        _c("households", "int", False, "户数", "Households", "实有户数", minimum=0),
        _c("grid_workers", "int", False, "网格员人数", "Grid workers", "网格员", minimum=0),
        _c("community_officer", "str", False, "社区民警", "Community officer", "责任民警"),
        _c("geometry", "geometry", True, "几何", "Geometry", "geom", "wkt"),
    ),
)

COMMUNITIES = Dataset(
    "communities",
    Label("平安创建对象", "Safe-community programme"),
    key="community_id",
    geometry="point",
    columns=(
        _c("community_id", "str", True, "小区编号", "Community ID", "编号", "id"),
        _c("name", "str", True, "小区名称", "Community name", "名称", "村社名称", "单位名称"),
        _c("kind", "str", True, "类型", "Kind", "创建类型", allowed="community_kind"),
        _lng(),
        _lat(),
        _c("grid_id", "str", False, "网格编号", "Grid ID", "所属网格"),
        _c("status", "str", True, "创建状态", "Status", "状态", allowed="community_status"),
        _c("certified_on", "date", False, "命名日期", "Certified on", "达标日期", "创建日期"),
        _c("households", "int", False, "户数", "Households", minimum=0),
        _c("cameras", "int", False, "技防摄像头", "Cameras", "摄像头", "技防", minimum=0),
        _c("guards", "int", False, "人防人数", "Guards", "保安", "人防", minimum=0),
        _c("volunteers", "int", False, "群防人数", "Volunteers", "志愿者", "群防", minimum=0),
    ),
)

INCIDENTS = Dataset(
    "incidents",
    Label("警情", "Incidents"),
    key="incident_id",
    geometry="point",
    columns=(
        _c(
            "incident_id",
            "str",
            True,
            "警情编号",
            "Incident ID",
            "案件编号",
            "接警编号",
            "编号",
            "id",
        ),
        _c(
            "time", "datetime", True, "发生时间", "Time", "报警时间", "接警时间", "案发时间", "时间"
        ),
        _lng(),
        _lat(),
        _c(
            "category",
            "str",
            True,
            "警情类别",
            "Category",
            "案件类别",
            "类别",
            allowed="incident_category",
        ),
        _c("severity", "int", False, "严重程度", "Severity", "等级", minimum=1, maximum=3),
        _c("source", "str", False, "警情来源", "Source", "来源", allowed="incident_source"),
    ),
)

PATROL_FIXES = Dataset(
    "patrol_fixes",
    Label("巡逻轨迹", "Patrol fixes"),
    key=None,
    geometry="point",
    columns=(
        _c("unit_id", "str", True, "巡逻单元编号", "Unit ID", "设备编号", "车辆编号", "编号"),
        _c("unit_kind", "str", True, "巡逻类型", "Unit kind", "力量类型", allowed="unit_kind"),
        _c("time", "datetime", True, "定位时间", "Time", "时间", "GPS时间"),
        _lng(),
        _lat(),
    ),
)

RESPONSE_UNITS = Dataset(
    "response_units",
    Label("最小应急处置单元", "Minimum response units"),
    key="unit_id",
    geometry="point",
    columns=(
        _c("unit_id", "str", True, "单元编号", "Unit ID", "编号", "id"),
        _c("name", "str", True, "单元名称", "Unit name", "名称"),
        _c("kind", "str", True, "单元类型", "Kind", "类型", allowed="response_unit_kind"),
        _lng(),
        _lat(),
        _c("staff", "int", False, "人数", "Staff", "处置力量", minimum=0),
    ),
)

POPULATION = Dataset(
    "population",
    Label("实有人口", "Resident population"),
    key=None,
    geometry="none",
    columns=(
        _c("grid_id", "str", False, "网格编号", "Grid ID", "所属网格"),
        _lng(required=False),
        _lat(required=False),
        _c("residents", "int", True, "实有人口", "Residents", "人口", "人数", minimum=0),
    ),
)

DATASETS: dict[str, Dataset] = {
    d.kind: d
    for d in (
        AREA,
        PRECINCTS,
        GRIDS,
        COMMUNITIES,
        INCIDENTS,
        PATROL_FIXES,
        RESPONSE_UNITS,
        POPULATION,
    )
}


def dataset(kind: str) -> Dataset:
    """Return the schema of ``kind``; a ValueError names the known kinds otherwise."""
    try:
        return DATASETS[kind]
    except KeyError:
        known = ", ".join(DATASETS)
        raise ValueError(f"unknown data set {kind!r}; known: {known}") from None
