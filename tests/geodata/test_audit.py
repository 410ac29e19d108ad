"""The audit log: one JSON line per event, appended, never rewritten."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import numpy as np
import pytest

from geodata.audit import AuditError, audit_path, read_events, record
from tests.conftest import SmallDisk


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


def test_a_full_disk_leaves_no_torn_line_and_a_crashs_torn_line_is_repaired(
    small_disk: SmallDisk,
) -> None:
    data = small_disk.path / "data"
    record(data, user="west", action="sign_in")
    small_disk.fill(leave=2048)  # room for a part of the next event only
    with pytest.raises(AuditError, match=r"No space left|short write"):
        record(data, user="west", action="export", note="x" * 8000)
    log = audit_path(data)
    assert [json.loads(line)["action"] for line in log.read_text().splitlines()] == ["sign_in"]

    # A crash in the middle of a write leaves a torn last line; the next write repairs it.
    torn = b'{"time":"2026-12-08T08:00:00.000+08:00","user":"east","act'
    with log.open("ab") as fh:
        fh.write(torn)
    small_disk.free()
    record(data, user="west", action="sign_out")
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [e["action"] for e in lines] == ["sign_in", "audit_repaired", "sign_out"]
    assert lines[1]["torn_text"] == torn.decode() and lines[1]["torn_bytes"] == len(torn)
    assert [e["action"] for e in read_events(data)] == ["sign_in", "audit_repaired", "sign_out"]


def test_events_of_many_processes_are_whole_lines(tmp_path: Path) -> None:
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_write_many, args=(tmp_path, i)) for i in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=60)
    events = list(read_events(tmp_path))
    assert len(events) == 4 * 50
    assert sorted({e["user"] for e in events}) == ["p0", "p1", "p2", "p3"]


def _write_many(data: Path, i: int) -> None:
    for _ in range(50):
        record(data, user=f"p{i}", action="export", note="y" * 5000)
