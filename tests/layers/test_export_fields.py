"""The export's table of columns: rounding by kind (known answers) and dBASE names."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from layers.export.fields import COLUMNS, ROUNDING, TEXT, round_frame


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("minutes", 44.47166666666667, 44.5),  # the tester's dwell
        ("hours", 13.04999, 13.0),
        ("rate", 12345.6, 12300.0),
        ("rate", 0.0012345, 0.00123),
        ("rate", 1.005, 1.0),
        ("rate", -3.14159, -3.14),
        ("p", 0.000123456, 0.0001),
        ("z", 2.5758, 2.58),
        ("share", 0.33333, 0.333),
        ("percent", 36.2499, 36.2),
        ("metres", 1234.56, 1235.0),
    ],
)
def test_each_kind_rounds_as_it_means(kind: str, value: float, expected: float) -> None:
    assert ROUNDING[kind].apply([value]).tolist() == [expected]


def test_missing_values_stay_missing_and_counts_become_whole_numbers() -> None:
    assert math.isnan(ROUNDING["rate"].apply([math.nan])[0])
    frame = round_frame(
        pd.DataFrame(
            {
                "count": [3.0, 4.0],
                "households": [2.0, np.nan],
                "is_gap": [True, False],
                "minutes": [1.26, np.nan],
                "state": ["gap", "covered"],
            }
        )
    )
    assert frame["count"].dtype == np.int64 and frame["count"].tolist() == [3, 4]
    assert str(frame["households"].dtype) == "Int64" and frame["households"].isna().tolist() == [
        False,
        True,
    ]
    assert frame["is_gap"].tolist() == [1, 0]
    assert frame["minutes"].tolist()[0] == 1.3 and math.isnan(frame["minutes"].tolist()[1])
    assert frame["state"].tolist() == ["gap", "covered"]


def test_every_column_has_a_kind_and_a_unique_dbase_name() -> None:
    assert all(c.kind in ROUNDING or c.kind == TEXT for c in COLUMNS.values())
    names = [c.dbf for c in COLUMNS.values()]
    assert all(0 < len(n) <= 10 and n.isascii() for n in names)
    assert len({n.lower() for n in names}) == len(names)
    assert all(c.zh and c.en for c in COLUMNS.values())
    assert COLUMNS["dwell_min_police_car"].dbf == "dwl_car"
