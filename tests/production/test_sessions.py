"""Sign-out ends the session in every gunicorn worker: a cookie copied before
``POST /logout`` is refused afterwards by both workers (sessions in a private Redis)."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
import requests

from benchmarks.load import free_port, start_gunicorn, stop_gunicorn, wait_http
from tests.dashboard.auth_data import PASSWORDS, SECRET, build_secure_data
from tests.production.conftest import PrivateRedis

ACCESS = re.compile(r"^<(\d+)> (\S+) (\S+) (\d{3})$")


def answers(log: Path, path: str) -> dict[int, set[int]]:
    """{worker pid: statuses} of the requests of ``path`` in the access log."""
    out: dict[int, set[int]] = defaultdict(set)
    for line in log.read_text(encoding="utf-8").splitlines():
        found = ACCESS.match(line.strip())
        if found and found.group(3) == path:
            out[int(found.group(1))].add(int(found.group(4)))
    return out


def fresh_get(base: str, path: str, cookie: str) -> int:
    """GET on a new connection (the kernel hands it to either worker)."""
    r = requests.get(
        f"{base}{path}",
        cookies={"pnm_session": cookie},
        headers={"Connection": "close"},
        allow_redirects=False,
        timeout=30,
    )
    return r.status_code


def until_both_workers(base: str, log: Path, path: str, cookie: str) -> dict[int, set[int]]:
    """Ask ``path`` on fresh connections until two workers have answered it."""
    for _ in range(200):
        fresh_get(base, path, cookie)
        seen = answers(log, path)
        if len(seen) >= 2:
            return seen
    raise AssertionError(f"only one worker answered {path}: {dict(answers(log, path))}")


@pytest.mark.slow
def test_a_cookie_copied_before_sign_out_is_refused_by_every_worker(
    tmp_path: Path, private_redis: PrivateRedis
) -> None:
    data = build_secure_data(tmp_path / "data")
    port = free_port()
    access = tmp_path / "access.log"
    env = {
        "PNM_AUTH": "users",
        "PNM_SECRET_KEY": SECRET,
        "PNM_CACHE": "redis",
        "PNM_REDIS_URL": private_redis.url,
        "PNM_WARM": "0",
        # The worker's pid, the method, the path and the status of every request.
        "GUNICORN_CMD_ARGS": f"--access-logfile {access} --access-logformat '%(p)s %(m)s %(U)s %(s)s'",
    }
    server = start_gunicorn(data, port, env, tmp_path / "gunicorn.log")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/healthz")
        browser = requests.Session()
        form = browser.get(f"{base}/login", timeout=30).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf
        r = browser.post(
            f"{base}/login",
            data={"name": "west", "password": PASSWORDS["west"], "csrf": csrf.group(1),
                  "next": "/"},
            headers={"Origin": base},
            allow_redirects=False,
            timeout=30,
        )  # fmt: skip
        assert r.status_code == 302
        copied = browser.cookies["pnm_session"]
        assert private_redis.keys("pnm-session:*")  # held in the store, not in the cookie

        before = until_both_workers(base, access, "/_dash-layout", copied)
        assert all(statuses == {200} for statuses in before.values()), before

        out = browser.post(
            f"{base}/logout", headers={"Origin": base}, allow_redirects=False, timeout=30
        )
        assert out.status_code == 302 and "pnm_session=;" in out.headers["Set-Cookie"]
        access.write_text("", encoding="utf-8")  # from here on: after the sign-out
        after = until_both_workers(base, access, "/_dash-layout", copied)
        assert all(statuses == {401} for statuses in after.values()), after
        assert fresh_get(base, "/", copied) == 302  # to the sign-in page
    finally:
        stop_gunicorn(server)
