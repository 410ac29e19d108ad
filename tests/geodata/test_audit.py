"""The audit log: one JSON line per event, appended, never rewritten."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import numpy as np
import pytest

from geodata.audit import AuditError, audit_path, read_events, record


def test_each_event_is_one_json_line_appended(tmp_path: Path) -> None:
    first = record(tmp_path, user="李警官", action="export", layers=["hotspots"], features=12)
    log = audit_path(tmp_path)
    before = log.read_bytes()
    record(tmp_path, user="planner", action="export", layers=["incidents"], features=3)
    after = log.read_bytes()
    assert after.startswith(before)  # the first line is untouched
    lines = after.decode("utf-8").splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0]) == first
    assert json.loads(lines[0])["user"] == "李警官"
    assert json.loads(lines[1])["features"] == 3
    assert [e["user"] for e in read_events(tmp_path)] == ["李警官", "planner"]


def test_event_fields_and_plain_values(tmp_path: Path) -> None:
    when = dt.datetime(2026, 11, 26, 9, 30, 0)
    event = record(
        tmp_path,
        user="u",
        action="export",
        when=when,
        out=tmp_path / "x.gpkg",
        count=np.int64(5),
        ids={"b", "a"},
    )
    assert event["time"] == "2026-11-26T09:30:00.000+08:00"
    assert event["out"] == str(tmp_path / "x.gpkg")
    assert event["count"] == 5 and event["ids"] == ["a", "b"]
    assert event["pid"] == os.getpid()
    line = audit_path(tmp_path).read_text("utf-8")
    assert line.count("\n") == 1 and line.endswith("\n")


def test_a_value_with_a_newline_stays_on_one_line(tmp_path: Path) -> None:
    record(tmp_path, user="u", action="export", note="two\nlines")
    assert len(audit_path(tmp_path).read_text("utf-8").splitlines()) == 1
    assert next(read_events(tmp_path))["note"] == "two\nlines"


def test_reserved_names_and_empty_user_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="may not be called"):
        record(tmp_path, user="u", action="export", time="now")
    with pytest.raises(ValueError, match="needs a user"):
        record(tmp_path, user=" ", action="export")
    assert not audit_path(tmp_path).exists()


def test_the_log_is_opened_for_appending_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flags_seen: list[int] = []
    real_open = os.open

    def spy(path: str | Path, flags: int, mode: int = 0o777) -> int:
        flags_seen.append(flags)
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", spy)
    record(tmp_path, user="u", action="export")
    assert flags_seen and all(f & os.O_APPEND for f in flags_seen)
    assert not any(f & os.O_TRUNC for f in flags_seen)


def test_an_unwritable_log_raises_audit_error(tmp_path: Path) -> None:
    (tmp_path / "audit").write_text("a file where the folder should be")
    with pytest.raises(AuditError, match="cannot write the audit log"):
        record(tmp_path, user="u", action="export")
