"""A gunicorn worker killed during requests: the master replaces it, nothing is lost."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import threading
import time
from pathlib import Path

import psutil
import pytest
import requests

from benchmarks.load import free_port, start_gunicorn, stop_gunicorn, wait_http


def fingerprint(data_dir: Path) -> str:
    """A hash of every file of the data directory (names and bytes)."""
    digest = hashlib.sha256()
    for path in sorted(data_dir.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(data_dir)).encode() + path.read_bytes())
    return digest.hexdigest()


def workers(master: int) -> set[int]:
    return {p.pid for p in psutil.Process(master).children()}


@pytest.mark.slow
def test_a_killed_worker_is_replaced_and_the_next_requests_succeed(
    tiny: Path, tmp_path: Path
) -> None:
    before = fingerprint(tiny)
    port = free_port()
    server = start_gunicorn(tiny, port, {"PNM_CACHE": "simple"}, tmp_path / "gunicorn.log")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/healthz")
        deadline = time.monotonic() + 60
        while len(workers(server.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        first = workers(server.pid)
        assert len(first) == 2

        # Requests in flight on both workers while one of them is killed.
        stop = threading.Event()

        def hammer() -> None:
            session = requests.Session()
            while not stop.is_set():
                # The killed worker's own requests may fail: that is the fault.
                with contextlib.suppress(requests.RequestException):
                    session.get(f"{base}/healthz", timeout=10)

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for thread in threads:
            thread.start()
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        while (victim in workers(server.pid) or len(workers(server.pid)) < 2) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.05)
        stop.set()
        for thread in threads:
            thread.join(timeout=15)

        after = workers(server.pid)
        assert victim not in after and len(after) == 2  # replaced by the master
        assert server.poll() is None  # the master lives on
        session = requests.Session()
        for _ in range(6):  # spread over both workers by the kernel: all answer
            r = session.get(f"{base}/healthz", timeout=30)
            assert r.status_code == 200 and r.json()["status"] == "ok"
        assert requests.get(f"{base}/", timeout=30).status_code == 200
    finally:
        stop_gunicorn(server)
    assert fingerprint(tiny) == before  # nothing stored was touched
