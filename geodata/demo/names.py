"""Synthetic place names for the demo: compounds, villages and work units.

Built from common name parts, so they read naturally but are not taken from any real
list; a real place may happen to share a name. People are never named: officers are
"民警甲01"-style codes.
"""

from __future__ import annotations

import numpy as np

_COMPOUND_WORDS = (
    "锦江", "滨河", "东城", "阳光", "金色", "翡翠", "巴山", "州河", "莲花", "桂花", "紫薇",
    "星河", "翠屏", "凤凰", "明月", "南岸", "北苑", "新城", "学府", "龙湖", "碧水", "和谐",
    "富康", "盛世", "华府", "锦绣", "天悦", "御景", "书香", "怡和", "春晓", "雅居", "兴业",
    "福泽", "清风", "朝阳", "东湖", "江景", "康居", "丽都",
)  # fmt: skip
_COMPOUND_SUFFIXES = ("花园", "小区", "家园", "苑", "雅居", "新村", "公寓", "名城", "丽景", "华庭")
_VILLAGE_FIRST = (
    "青", "石", "柏", "桃", "杨", "李", "黄", "龙", "凤", "马", "白", "金", "花", "竹", "松",
    "梨", "桂", "三", "五", "双", "新", "高", "上", "下", "大", "小", "红", "长", "团", "鹿",
)  # fmt: skip
_VILLAGE_SECOND = (
    "岩", "坪", "坝", "湾", "沟", "河", "山", "林", "树", "桥", "溪", "垭", "梁", "岭", "塘",
    "庙", "口", "园", "滩", "堡",
)  # fmt: skip
_URBAN_UNITS = (
    "第{n}小学", "第{n}中学", "{w}幼儿园", "{w}农贸市场", "{w}超市", "{w}医院", "{w}酒店",
    "{w}物流园", "{w}加油站", "{w}银行网点", "{w}商场", "{w}宾馆", "{w}汽修厂", "{w}建材市场",
)  # fmt: skip
_TOWN_UNITS = (
    "{t}中心小学", "{t}初级中学", "{t}卫生院", "{t}农贸市场", "{t}加油站", "{t}信用社",
    "{t}敬老院", "{t}供销社", "{t}粮站", "{t}村镇银行", "{t}客运招呼站", "{t}农机站",
)  # fmt: skip
_GAS_FIELD_UNITS = ("天然气净化厂", "集气站", "钻井队营地", "输气管理站", "砂石场")


def _unique(name: str, taken: set[str]) -> str:
    out, n = name, 2
    while out in taken:
        out = f"{name}{n}"
        n += 1
    taken.add(out)
    return out


def compound_names(n: int, town: str | None, rng: np.random.Generator) -> list[str]:
    """``n`` distinct compound names; in a town they start with the town's short name."""
    taken: set[str] = set()
    prefix = town or ""
    return [
        _unique(
            prefix
            + _COMPOUND_WORDS[rng.integers(len(_COMPOUND_WORDS))]
            + _COMPOUND_SUFFIXES[rng.integers(len(_COMPOUND_SUFFIXES))],
            taken,
        )
        for _ in range(n)
    ]


def village_names(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` distinct village names such as 青岩村."""
    taken: set[str] = set()
    return [
        _unique(
            _VILLAGE_FIRST[rng.integers(len(_VILLAGE_FIRST))]
            + _VILLAGE_SECOND[rng.integers(len(_VILLAGE_SECOND))]
            + "村",
            taken,
        )
        for _ in range(n)
    ]


def unit_names(
    n: int, town: str | None, rng: np.random.Generator, *, gas_field: int = 0
) -> list[str]:
    """``n`` distinct work-unit names: schools, clinics, markets; gas-field sites first."""
    taken: set[str] = set()
    out = [
        _unique(f"{town or ''}{_GAS_FIELD_UNITS[i % len(_GAS_FIELD_UNITS)]}", taken)
        for i in range(min(gas_field, n))
    ]
    for i in range(n - len(out)):
        if town is None:
            template = _URBAN_UNITS[rng.integers(len(_URBAN_UNITS))]
            word = _COMPOUND_WORDS[rng.integers(len(_COMPOUND_WORDS))]
            out.append(_unique(template.format(n=i // 4 + 1, w=word), taken))
        else:
            template = _TOWN_UNITS[i % len(_TOWN_UNITS)]
            out.append(_unique(template.format(t=town), taken))
    return out


def officer_name(i: int) -> str:
    """The ``i``-th synthetic officer code: 民警甲01, 民警乙01, ... 民警癸01, 民警甲02."""
    return f"民警{'甲乙丙丁戊己庚辛壬癸'[i % 10]}{i // 10 + 1:02d}"
