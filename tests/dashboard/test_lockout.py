"""Failed sign-ins: a growing delay per (name, address), a limit per address, and no way
to lock a person out from somebody else's machine (dashboard/auth/lockout.py)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest

from dashboard.app import create_app
from dashboard.auth.lockout import ADDRESS_FAILURES, Throttle, pair_delay_s
from dashboard.settings import load_settings
from geodata.audit import CHINA_TZ, read_events
from tests.dashboard.auth_data import PASSWORDS, SECRET, build_secure_data, client_from, sign_in


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return build_secure_data(tmp_path / "data")


@pytest.fixture
def app(data: Path) -> Any:
    return create_app(load_settings({}, data_dir=str(data), secret_key=SECRET))


def test_the_delay_doubles_after_five_failures_up_to_fifteen_minutes() -> None:
    assert [pair_delay_s(n) for n in range(1, 11)] == [
        0, 0, 0, 0, 60, 120, 240, 480, 900, 900,
    ]  # fmt: skip
    now = [1000.0]
    throttle = Throttle(clock=lambda: now[0])
    for _ in range(4):
        assert throttle.fail("10.0.0.1", "boss") is None
    lock = throttle.fail("10.0.0.1", "boss")
    assert lock is not None and (lock.seconds, lock.scope) == (60, "name")
    now[0] += 59
    assert throttle.locked("10.0.0.1", "boss") is not None
    now[0] += 1
    assert throttle.locked("10.0.0.1", "boss") is None  # one more try ...
    lock = throttle.fail("10.0.0.1", "boss")
    assert lock is not None and lock.seconds == 120  # ... and the next wait is twice as long
    assert throttle.locked("10.0.0.2", "boss") is None  # another machine: not locked
    assert throttle.locked("10.0.0.1", "west") is None  # another name here: not locked
    now[0] += 3600 + 120
    assert throttle.fail("10.0.0.1", "boss") is None  # forgotten an hour after the last


def test_an_address_spraying_names_is_locked_whatever_the_name() -> None:
    now = [0.0]
    throttle = Throttle(clock=lambda: now[0])
    for i in range(ADDRESS_FAILURES - 1):
        assert throttle.fail("10.0.0.9", f"name{i}") is None
    lock = throttle.fail("10.0.0.9", "one-more")
    assert lock is not None and lock.scope == "address" and lock.seconds == 15 * 60
    assert throttle.locked("10.0.0.9", "boss") is not None
    assert throttle.locked("10.0.0.9") is not None  # a wall token from there too
    assert throttle.locked("10.0.0.8", "boss") is None
    now[0] += 15 * 60
    assert throttle.locked("10.0.0.9", "boss") is None


def test_a_name_locked_from_one_address_signs_in_from_another(app: Any, data: Path) -> None:
    attacker, centre = client_from(app, "10.9.9.9"), client_from(app, "10.1.1.1")
    for _ in range(5):
        r = sign_in(attacker, "boss", password="guess-guess-guess")
        assert r.status_code == 401 and "用户名或密码错误" in r.get_data(as_text=True)
    page = r.get_data(as_text=True)
    until = re.search(r"请于 (\d\d:\d\d:\d\d) 后再试（约 1 分钟）", page)
    assert until, page  # the fifth failure says the lock and when it ends
    r = sign_in(attacker, "boss")  # the right password, from the locked address
    assert r.status_code == 429 and int(r.headers["Retry-After"]) in range(55, 61)
    assert until.group(1) in r.get_data(as_text=True)
    assert attacker.get("/_dash-layout").status_code == 401

    r = sign_in(centre, "boss")  # the commander, at the command centre
    assert r.status_code == 302 and centre.get("/_dash-layout").status_code == 200

    events = list(read_events(data))
    locked = [e for e in events if e["action"] == "sign_in_locked"]
    assert len(locked) == 1 and locked[0]["user"] == "boss"
    assert (locked[0]["address"], locked[0]["locks"], locked[0]["seconds"]) == (
        "10.9.9.9", "name", 60,
    )  # fmt: skip
    ends = dt.datetime.fromisoformat(locked[0]["until"])
    assert ends.utcoffset() == CHINA_TZ.utcoffset(None) and f"{ends:%H:%M:%S}" == until.group(1)
    reasons = [e.get("reason") for e in events if e["action"] == "sign_in_failed"]
    assert reasons == ["wrong password"] * 5 + ["rate limited"]
    assert "guess" not in json.dumps(events)


def test_the_lock_is_said_in_english_too(app: Any) -> None:
    client = client_from(app, "10.9.9.8")
    for _ in range(5):
        sign_in(client, "west", password="guess-guess-guess")
    page = client.get("/login?lang=en").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    r = client.post(
        "/login",
        data={"name": "west", "password": PASSWORDS["west"], "csrf": csrf, "lang": "en"},
    )
    text = r.get_data(as_text=True)
    assert r.status_code == 429
    assert re.search(r"for this name from this computer; try again after \d\d:\d\d:\d\d", text)


def test_a_spray_from_one_address_locks_that_address_only(app: Any, data: Path) -> None:
    spray, other = client_from(app, "10.7.7.7"), client_from(app, "10.7.7.8")
    for i in range(ADDRESS_FAILURES):
        assert sign_in(spray, f"user{i}", password="x" * 12).status_code == 401
    assert sign_in(spray, "west").status_code == 429
    assert sign_in(other, "west").status_code == 302
    locked = [e for e in read_events(data) if e["action"] == "sign_in_locked"]
    assert [e["locks"] for e in locked] == ["address"]


def test_behind_a_trusted_proxy_each_client_has_its_own_count(data: Path) -> None:
    app = create_app(
        load_settings({}, data_dir=str(data), secret_key=SECRET, trusted_proxies="10.0.0.5")
    )
    proxy = client_from(app, "10.0.0.5")
    attacker = {"X-Forwarded-For": "192.0.2.66"}
    for _ in range(5):
        sign_in(proxy, "boss", password="guess-guess-guess", headers=attacker)
    assert sign_in(proxy, "boss", headers=attacker).status_code == 429
    centre = app.server.test_client()
    centre.environ_base["REMOTE_ADDR"] = "10.0.0.5"
    r = sign_in(centre, "boss", headers={"X-Forwarded-For": "192.0.2.10"})
    assert r.status_code == 302  # another client behind the same proxy
    # A client that is not the proxy cannot pick its address by the header: naming the
    # locked address does not lock it out, it is itself.
    direct = client_from(app, "192.0.2.77")
    assert sign_in(direct, "boss", headers=attacker).status_code == 302
    locked = [e for e in read_events(data) if e["action"] == "sign_in_locked"]
    assert [e["address"] for e in locked] == ["192.0.2.66"]
