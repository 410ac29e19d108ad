"""Times on import: a row later than now plus the tolerance, or before the floor, is
rejected as ``time_out_of_range``; the default window ends at the newest time not after
now, so one outlier never anchors it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geodata import store
from geodata.importer import import_file, run_import
from geodata.limits import ImportLimits, LimitError, import_limits, now_cst
from geodata.snapshot import window_end

HEAD = "警情编号,发生时间,经度,纬度,警情类别\n"
GOOD = "A,2024-05-01 13:20,107.73,31.35,盗窃\n"


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "in.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "when", ["2099-06-01 00:00:00", "9999-12-31 23:59:59", "1999-12-31 23:59:59", "1900-01-01"]
)
def test_a_time_in_the_far_future_or_before_the_floor_is_rejected_with_its_reason(
    tmp_path, square_store, capsys, when
):
    path = _csv(tmp_path, HEAD + GOOD + f"B,{when},107.73,31.35,盗窃\n")
    assert run_import("incidents", path, data_dir=square_store) == 0
    assert store.read_table(square_store, "incidents")["incident_id"].tolist() == ["A"]
    (rejects_file,) = store.rejects_dir(square_store).glob("*.csv")
    rejects = pd.read_csv(rejects_file, encoding="utf-8-sig", dtype=str)
    assert rejects[["row", "reason"]].values.tolist() == [["3", "time_out_of_range"]]
    assert when in rejects.loc[0, "detail"]
    out = capsys.readouterr().out
    assert "time_out_of_range" in out and "时间超出可信范围" in out  # counted in the summary
    (entry,) = store.read_manifest(square_store)["imports"]
    assert entry["rejected_by_reason"] == {"time_out_of_range": 1}


def test_the_tolerance_and_the_floor_are_settings(tmp_path, square_store):
    now = now_cst()
    soon = (now + pd.Timedelta(hours=12)).strftime("%Y-%m-%d %H:%M:%S")
    later = (now + pd.Timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S")
    text = HEAD + GOOD + f"B,{soon},107.73,31.35,盗窃\nC,{later},107.73,31.35,盗窃\n"
    path = _csv(tmp_path, text)
    report = import_file("incidents", path, data_dir=square_store, replace=True)
    assert report.rows_stored == 2 and report.rejected == {"time_out_of_range": 1}  # 1 day
    wide = ImportLimits(future_days=5, time_floor=pd.Timestamp("2024-06-01"))
    report = import_file("incidents", path, data_dir=square_store, replace=True, limits=wide)
    # May 2024 is now before the floor; three days ahead within the tolerance.
    assert report.rows_stored == 2 and report.rejected == {"time_out_of_range": 1}
    stored = store.read_table(square_store, "incidents")["incident_id"].tolist()
    assert stored == ["B", "C"]


def test_limits_come_from_the_environment_and_a_typo_is_one_line(tmp_path, square_store, capsys):
    limits = import_limits({"PNM_IMPORT_FUTURE_DAYS": "0.5", "PNM_IMPORT_TIME_FLOOR": "2010-01-01"})
    assert limits.future_days == 0.5 and limits.time_floor == pd.Timestamp("2010-01-01")
    assert import_limits({}) == ImportLimits()
    for env in ({"PNM_IMPORT_FUTURE_DAYS": "one"}, {"PNM_IMPORT_TIME_FLOOR": "2010-13-01"}):
        with pytest.raises(LimitError, match=next(iter(env))):
            import_limits(env)
    with pytest.raises(LimitError):
        ImportLimits(future_days=-1)


def test_a_bad_limit_setting_fails_the_import_in_one_line(
    tmp_path, square_store, capsys, monkeypatch
):
    monkeypatch.setenv("PNM_IMPORT_FUTURE_DAYS", "tomorrow")
    assert run_import("incidents", _csv(tmp_path, HEAD + GOOD), data_dir=square_store) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "PNM_IMPORT_FUTURE_DAYS" in err[0]
    assert not store.has_table(square_store, "incidents")


def _hours(*values: str) -> pd.Series:
    return pd.Series(np.array(values, dtype="datetime64[us]"))


def test_the_window_ends_after_the_newest_time_not_after_now():
    hours = _hours("2026-11-20T08:00", "2026-11-25T23:00", "2099-06-01T00:00", "9999-12-31T23:59")
    now = pd.Timestamp("2026-12-07 12:00")
    assert window_end(hours, now) == pd.Timestamp("2026-11-26")
    # The clock decides: on 2026-11-22 the data after it are not yet "the last day".
    assert window_end(hours, pd.Timestamp("2026-11-22")) == pd.Timestamp("2026-11-21")
    # Every hour after now (a clock set back): the window ends with today.
    assert window_end(hours, pd.Timestamp("2020-01-01 10:00")) == pd.Timestamp("2020-01-02")
    # Without a now: the clock's (the test data lie in the past).
    assert window_end(_hours("2026-11-25T23:00", "9999-12-31T23:59")) == pd.Timestamp("2026-11-26")
