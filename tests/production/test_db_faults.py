"""PostgreSQL stopped and restarted, on a private cluster (never the shared server).

The dashboard reads the data directory while it serves; PostgreSQL (PostGIS) is the store
that imports write and cube builds read. So when PostgreSQL stops during an import or a
cube build: the app keeps answering with the last good cubes, the import or build exits
non-zero with a one-line message and leaves nothing half-written (the cube files are
byte-for-byte and time-for-time as they were, the import's transaction is rolled back,
nothing stored before is lost); once PostgreSQL is back the same commands succeed and the
app serves the new cubes by itself, without a restart.

"During" is made exact, not left to timing: the test holds a table lock from a session
of its own, so the import's COPY (or the build's read) waits inside its transaction, and
the server is stopped while it waits (``pg_ctl stop -m fast`` ends every session).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from dashboard.app import create_app
from dashboard.settings import load_settings
from geodata.postgis import migrate, write_table_pg
from geodata.store import cubes_dir, read_table
from tests.dashboard.tiny_data import build_tiny_data
from tests.geodata.partition_data import D0, A, B, C, every, fixes_frame, hard_fixes
from tests.production.conftest import Browser, PrivatePostgres

pytestmark = [pytest.mark.db, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
HEADER = "警情编号,发生时间,经度,纬度,警情类别\n"
FIRST = [(f"J{i:02d}", D0 + dt.timedelta(days=i % 5, hours=2 + i), p, "盗窃")
         for i, p in enumerate((A, B, C, A, B, C))]  # fmt: skip
SECOND = [(f"N{i:02d}", D0 + dt.timedelta(days=4, hours=8 + i), p, "诈骗")
          for i, p in enumerate((A, A, B, C))]  # fmt: skip


def _csv(path: Path, rows: list[tuple[str, dt.datetime, tuple[float, float], str]]) -> Path:
    text = "".join(f"{i},{t:%Y-%m-%d %H:%M:%S},{p[0]:.6f},{p[1]:.6f},{c}\n" for i, t, p, c in rows)
    path.write_text(HEADER + text, encoding="utf-8")
    return path


def _geodata(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "geodata", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    proc = _geodata(*args)
    out, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _snapshot(data: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of the cubes folder: its bytes and modification time."""
    return {
        p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(cubes_dir(data).iterdir())
    }


def _query(dsn: str, text: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return [tuple(r) for r in conn.execute(text).fetchall()]  # type: ignore[arg-type]


@contextmanager
def _lock(dsn: str, table: str, mode: str) -> Iterator[None]:
    """Hold ``LOCK TABLE pnm.<table> IN <mode> MODE`` in a session of our own."""
    conn = psycopg.connect(dsn)
    try:
        conn.execute(
            sql.SQL("LOCK TABLE {} IN {} MODE").format(sql.Identifier("pnm", table), sql.SQL(mode))
        )
        yield
    finally:
        conn.close()


def _wait_until_waiting(dsn: str, proc: subprocess.Popen[str]) -> None:
    """Until a geodata session waits on a lock (its statement is under way)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        waiting = _query(
            dsn,
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE application_name = 'pnm-geodata' AND wait_event_type = 'Lock'",
        )
        if waiting[0][0]:
            return
        time.sleep(0.1)
    raise AssertionError("the geodata command never reached the locked table")


def _heat(browser: Browser) -> dict[str, Any]:
    status, response = browser.layer("heat")
    assert status == 200
    data: dict[str, Any] = response["hex-data"]["data"]
    return data


def _one_line_failure(err: str) -> None:
    lines = [x for x in err.splitlines() if x.strip() and "it/s" not in x and "step" not in x]
    assert "Traceback" not in err, err
    # One line: what failed (the table) and why (the server went away).
    assert len(lines) == 1 and "失败 / " in lines[0] and "failed" in lines[0], err
    assert "pnm.incidents" in lines[0] and "connection" in lines[0], err


def test_postgres_stopped_during_an_import_and_a_cube_build(
    tmp_path: Path, private_postgres: PrivatePostgres
) -> None:
    pg, dsn = private_postgres, private_postgres.dsn
    data = build_tiny_data(tmp_path / "data", cube=False)
    assert migrate(dsn) == [1]
    for kind in ("area", "precincts", "grids"):
        write_table_pg(dsn, kind, read_table(data, kind))
    write_table_pg(dsn, "patrol_fixes", fixes_frame(hard_fixes()).to_pandas())
    assert _run("import", "incidents", str(_csv(tmp_path / "jq1.csv", FIRST)),
                "--dsn", dsn, "--data", str(data)).returncode == 0  # fmt: skip
    built = _run("cubes", "--data", str(data), "--dsn", dsn)
    assert built.returncode == 0, built.stderr

    browser = Browser(create_app(load_settings({}, data_dir=str(data), auth="none")).server
                      .test_client())  # fmt: skip
    before = _heat(browser)
    assert sum(before["v"]) == len(FIRST)
    cubes_before = _snapshot(data)
    stored_before = _query(dsn, "SELECT incident_id FROM pnm.incidents ORDER BY fid")
    logged_before = _query(dsn, "SELECT count(*) FROM pnm.import_log")

    # 1. PostgreSQL stops while an import's COPY is under way (inside its transaction).
    second = _csv(tmp_path / "jq2.csv", SECOND)
    with _lock(dsn, "incidents", "SHARE"):  # reads pass, the COPY waits
        proc = _geodata("import", "incidents", str(second), "--dsn", dsn, "--data", str(data))
        _wait_until_waiting(dsn, proc)
        pg.stop()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    _one_line_failure(err)
    # The app stays up and answers with the last good cubes, untouched.
    assert _heat(browser) == before
    health = browser.client.get("/healthz")
    assert health.status_code == 200 and health.get_json()["status"] == "ok"
    assert _snapshot(data) == cubes_before

    # 2. Back up: the import's transaction was rolled back, nothing stored before is lost;
    # the same import now succeeds.
    pg.start()
    assert _query(dsn, "SELECT incident_id FROM pnm.incidents ORDER BY fid") == stored_before
    assert _query(dsn, "SELECT count(*) FROM pnm.import_log") == logged_before
    rerun = _run("import", "incidents", str(second), "--dsn", dsn, "--data", str(data))
    assert rerun.returncode == 0, rerun.stderr
    stored = [r[0] for r in _query(dsn, "SELECT incident_id FROM pnm.incidents ORDER BY fid")]
    assert stored == [i for i, *_ in FIRST] + [i for i, *_ in SECOND]
    # New patrols too, so that every cube of the next build differs from the last one.
    extra = every("extra1", "foot_patrol", D0 + dt.timedelta(days=4, hours=9),
                  D0 + dt.timedelta(days=4, hours=10), 20, C)  # fmt: skip
    write_table_pg(dsn, "patrol_fixes", fixes_frame(extra).to_pandas())

    # 3. PostgreSQL stops while a cube build reads it.
    with _lock(dsn, "incidents", "ACCESS EXCLUSIVE"):  # the build's read waits
        proc = _geodata("cubes", "--data", str(data), "--dsn", dsn)
        _wait_until_waiting(dsn, proc)
        pg.stop()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    _one_line_failure(err)
    assert _snapshot(data) == cubes_before  # no cube replaced, no temporary file left
    assert _heat(browser) == before
    assert browser.client.get("/healthz").status_code == 200

    # 4. Back up: the build succeeds, and the app serves the new cubes by itself.
    pg.start()
    rebuilt = _run("cubes", "--data", str(data), "--dsn", dsn)
    assert rebuilt.returncode == 0, rebuilt.stderr
    after = _snapshot(data)
    assert {n for n in after if n.endswith(".parquet")} == {
        n for n in cubes_before if n.endswith(".parquet")
    }
    assert all(after[n][0] != cubes_before[n][0] for n in after), "a cube was not rebuilt"
    deadline = time.monotonic() + 30
    while (now := _heat(browser)) == before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert sum(now["v"]) == len(FIRST) + len(SECOND)
    health = browser.client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["data"]["reloads"] >= 1
