"""Sign-in, sessions, the users file and its command, proxy and kiosk sign-in, headers,
the audit of every sign-in and refusal, and the coverage of every route and callback."""

from __future__ import annotations

import io
import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest

from dashboard.app import create_app
from dashboard.auth import signin as signin_module
from dashboard.auth.checks import feature_of
from dashboard.auth.guard import route_kind
from dashboard.auth.headers import content_security_policy, tile_source
from dashboard.auth.signin import resolve_secret
from dashboard.auth.users import (
    UserDirectory,
    UsersError,
    make_user,
    parse_users,
    read_users,
    write_users,
)
from dashboard.settings import SettingsError, load_settings
from geodata.audit import read_events
from tests.dashboard.auth_data import (
    PASSWORDS,
    SECRET,
    WALL_TOKEN,
    build_secure_data,
    callback_body,
    client_from,
    post_callback,
    sign_in,
)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_secure_data(tmp_path_factory.mktemp("auth") / "data")


@pytest.fixture(scope="module")
def app(data: Path) -> Any:
    return create_app(load_settings({}, data_dir=str(data), secret_key=SECRET))


def events(data: Path, since: int = 0) -> list[dict[str, Any]]:
    return list(read_events(data))[since:]


# --------------------------------------------------------------------------- users file


def test_users_file_round_trip_in_toml_and_json(tmp_path: Path) -> None:
    users = [
        make_user("zhang", "chief", precincts=["511722001", "511722002"], password="a" * 12),
        make_user("李四", "commander", password="b" * 12),
        make_user("kiosk", "wall", token="t" * 40),
        make_user("sso", "planner"),
    ]
    for name in ("users.toml", "users.json"):
        path = tmp_path / name
        write_users(path, users)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds hashes
        text = path.read_text(encoding="utf-8")
        assert "a" * 12 not in text and "t" * 40 not in text  # hashes only
        back = read_users(path)
        assert back == {u.name: u for u in users}
        assert back["zhang"].check_password("a" * 12)
        assert not back["zhang"].check_password("a" * 11)
        assert back["zhang"].scope == frozenset({"511722001", "511722002"})
        assert back["李四"].scope is None and back["sso"].scope is None
        assert not back["sso"].check_password("")  # no password: never signs in by form


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"users": {"a": {"role": "chief"}}}, "chief 'a' has no precincts"),
        ({"users": {"a": {"role": "king"}}}, "role 'king'"),
        ({"users": {"a b": {"role": "commander"}}}, "bad user name"),
        ({"users": {"a": {"role": "wall", "password": "x$y"}}}, "token, not a password"),
        ({"users": {"a": {"role": "commander", "precincts": ["P1"]}}}, "no precincts"),
        ({"users": {"a": {"role": "commander", "password": "plain"}}}, "not a werkzeug hash"),
        ({"users": {"a": {"role": "commander", "pw": "x"}}}, "unknown key"),
        ({"users": {"a": {"role": "wall", "token": "abc"}}}, "not a sha256"),
        ({"admins": {}}, "unknown key"),
    ],
)
def test_invalid_accounts_are_refused_with_the_reason(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(UsersError, match=re.escape(message)):
        parse_users(raw)


def test_short_passwords_and_broken_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UsersError, match="at least 10"):
        make_user("a", "commander", password="short")
    bad = tmp_path / "users.toml"
    bad.write_text("[users.a\n", encoding="utf-8")
    with pytest.raises(UsersError, match="not valid"):
        read_users(bad)
    assert read_users(tmp_path / "missing.toml") == {}


def test_the_directory_rereads_a_changed_file(tmp_path: Path) -> None:
    path = tmp_path / "users.toml"
    write_users(path, [make_user("a", "commander", password="p" * 10)])
    directory = UserDirectory(path)
    assert directory.get("a") is not None
    write_users(path, [make_user("b", "planner", password="q" * 10, precincts=["P1"])])
    assert directory.get("a") is None and directory.get("b") is not None
    assert [u.name for u in directory.all()] == ["b"]


def test_users_command_adds_lists_and_removes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dashboard.__main__ import main

    path = tmp_path / "users.toml"
    base = ["users", "--users-file", str(path), "--data", str(tmp_path)]
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
    assert main([*base, "add", "zhang", "--role", "chief", "--precinct", "P1",
                 "--password-stdin"]) == 0  # fmt: skip
    assert read_users(path)["zhang"].check_password("correct horse battery")
    assert main([*base, "add", "lobby", "--role", "wall"]) == 0
    out = capsys.readouterr().out
    token = re.search(r"/wall\?token=(\S+)", out)
    assert token and UserDirectory(path).by_token(token.group(1)).name == "lobby"  # type: ignore[union-attr]
    assert main([*base, "add", "sso", "--role", "commander", "--no-password"]) == 0
    capsys.readouterr()
    assert main([*base, "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed == [
        "lobby\twall\t-\ttoken",
        "sso\tcommander\t-\tproxy",
        "zhang\tchief\tP1\tpassword",
    ]
    # A chief needs precincts; an existing name needs --replace; errors are one line.
    assert main([*base, "add", "wang", "--role", "chief", "--no-password"]) == 2
    assert main([*base, "add", "sso", "--role", "planner", "--no-password"]) == 2
    err = capsys.readouterr().err
    assert "has no precincts" in err and "add --replace" in err and err.count("\n") == 2
    assert main([*base, "remove", "zhang"]) == 0
    assert "zhang" not in read_users(path)
    assert main([*base, "remove", "zhang"]) == 2


# --------------------------------------------------------------------------- settings


def test_auth_settings_are_read_and_checked(tmp_path: Path) -> None:
    s = load_settings(
        {
            "PNM_AUTH": "proxy",
            "PNM_PROXY_HEADER": "X-Remote-User",
            "PNM_PROXY_ADDRESSES": "10.0.0.1, 192.168.0.0/24",
            "PNM_SESSION_HOURS": "2.5",
            "PNM_COOKIE_SECURE": "true",
            "PNM_SECRET_KEY": SECRET,
            "PNM_USERS_FILE": str(tmp_path / "u.json"),
        }
    )
    assert (s.auth, s.proxy_addresses, s.session_hours, s.cookie_secure) == (
        "proxy", ("10.0.0.1", "192.168.0.0/24"), 2.5, True,
    )  # fmt: skip
    assert s.users_path == tmp_path / "u.json"
    assert "secret_key" not in repr(s) or SECRET not in repr(s)
    assert load_settings({}, data_dir=str(tmp_path)).users_path == tmp_path / "users.toml"
    for env, message in (
        ({"PNM_AUTH": "ldap"}, "auth must be one of"),
        ({"PNM_AUTH": "proxy"}, "needs PNM_PROXY_HEADER"),
        ({"PNM_AUTH": "proxy", "PNM_PROXY_HEADER": "X", "PNM_PROXY_ADDRESSES": "proxy.local"},
         "not an address"),
        ({"PNM_SESSION_HOURS": "0"}, "session_hours"),
        ({"PNM_COOKIE_SECURE": "maybe"}, "cookie_secure"),
    ):  # fmt: skip
        with pytest.raises(SettingsError, match=message):
            load_settings(env)


def test_a_secret_key_is_required_unless_sign_in_is_off(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="PNM_SECRET_KEY"):
        resolve_secret(load_settings({}))
    with pytest.raises(SettingsError, match="at least 32"):
        resolve_secret(load_settings({"PNM_SECRET_KEY": "short"}))
    key_file = tmp_path / "secret"
    key_file.write_text(SECRET + "\n", encoding="utf-8")
    assert resolve_secret(load_settings({"PNM_SECRET_KEY_FILE": str(key_file)})) == SECRET
    off = load_settings({"PNM_AUTH": "none"})
    assert len(resolve_secret(off)) >= 32 and resolve_secret(off) != resolve_secret(off)


def test_the_app_refuses_to_start_without_a_secret_or_users(data: Path, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="PNM_SECRET_KEY"):
        create_app(load_settings({}, data_dir=str(data)))
    with pytest.raises(SettingsError, match="users add NAME --role commander"):
        create_app(
            load_settings(
                {}, data_dir=str(data), secret_key=SECRET, users_file=str(tmp_path / "none.toml")
            )
        )


def test_the_dev_server_says_what_to_set_in_one_line(
    data: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard.__main__ import main

    monkeypatch.delenv("PNM_SECRET_KEY", raising=False)
    monkeypatch.delenv("PNM_AUTH", raising=False)
    assert main(["--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "PNM_SECRET_KEY" in err and "PNM_AUTH=none" in err


# --------------------------------------------------------------------------- sign-in


def test_anonymous_requests_go_to_sign_in_or_get_401(app: Any) -> None:
    client = app.server.test_client()
    r = client.get("/?layer=heat")
    assert r.status_code == 302
    assert r.headers["Location"] == "/login?next=%2F%3Flayer%3Dheat&lang=zh"
    for path in ("/_dash-layout", "/_dash-dependencies", "/assets/pnm.js", "/export/download"):
        assert client.get(path).status_code in (401, 302), path
    assert client.get("/_dash-layout").get_json() == {"error": "not signed in"}
    assert client.post("/_dash-update-component", json={"output": "x"}).status_code == 401
    page = client.get("/login?lang=en").get_data(as_text=True)
    assert 'name="password"' in page and "Sign in" in page and "登录" not in page.split("<main>")[1]


def test_sign_in_sets_a_strict_cookie_and_is_audited(app: Any, data: Path) -> None:
    before = len(events(data))
    client = app.server.test_client()
    r = sign_in(client, "west")
    assert r.status_code == 302 and r.headers["Location"] == "/"
    cookie = r.headers["Set-Cookie"]
    assert "pnm_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # not configured for HTTPS here
    assert client.get("/").status_code == 200
    assert client.get("/_dash-layout").status_code == 200
    out = client.post("/logout")
    assert out.status_code == 302 and out.headers["Location"].startswith("/login")
    assert client.get("/").status_code == 302
    got = events(data, before)
    assert [(e["action"], e["user"]) for e in got] == [("sign_in", "west"), ("sign_out", "west")]
    assert got[0]["role"] == "chief" and got[0]["method"] == "password" and got[0]["address"]
    assert PASSWORDS["west"] not in json.dumps(got)


def test_a_cookie_copied_before_sign_out_is_refused_after_it_in_another_app(
    tmp_path: Path,
) -> None:
    """Two apps on one data directory stand for two workers: they share only the session
    store (files in the data directory here; Redis in tests/production)."""
    data = build_secure_data(tmp_path / "data")
    settings = load_settings({}, data_dir=str(data), secret_key=SECRET)
    first, second = create_app(settings), create_app(settings)
    client = first.server.test_client()
    assert sign_in(client, "west").status_code == 302
    cookie = client.get_cookie("pnm_session")
    assert cookie is not None and len(cookie.value) >= 40  # an id, not the session itself
    assert "west" not in cookie.value
    copy = second.server.test_client()
    copy.set_cookie("pnm_session", cookie.value)
    assert copy.get("/_dash-layout").status_code == 200  # the other worker knows it
    stored = list((data / "sessions").iterdir())
    assert stored and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in stored)
    assert client.post("/logout").status_code == 302
    assert copy.get("/_dash-layout").status_code == 401
    assert copy.get("/").status_code == 302
    replay = first.server.test_client()
    replay.set_cookie("pnm_session", cookie.value)
    assert replay.get("/_dash-layout").status_code == 401


def test_a_get_of_logout_signs_nobody_out(app: Any, data: Path) -> None:
    before = len(events(data))
    client = app.server.test_client()
    sign_in(client, "boss")
    page = client.get("/logout?lang=en")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and '<form method="post" action="/logout?lang=en">' in text
    assert "Sign out of the dashboard?" in text
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert client.get("/_dash-layout").status_code == 200  # still signed in
    assert [e["action"] for e in events(data, before)] == ["sign_in"]
    assert "您已退出登录" in app.server.test_client().get("/logout").get_data(as_text=True)


def test_signing_in_gives_a_new_session_id(app: Any) -> None:
    client = app.server.test_client()
    sign_in(client, "west")
    first = client.get_cookie("pnm_session")
    sign_in(client, "boss")  # another sign-in in the same browser
    second = client.get_cookie("pnm_session")
    assert first is not None and second is not None and second.value != first.value
    old = app.server.test_client()
    old.set_cookie("pnm_session", first.value)
    assert old.get("/_dash-layout").status_code == 401


def test_the_sign_in_form_stores_no_session(tmp_path: Path) -> None:
    """Its token is kept by the browser: a flood of visits to /login fills no store."""
    data = build_secure_data(tmp_path / "data")
    app = create_app(load_settings({}, data_dir=str(data), secret_key=SECRET))
    before = sorted((data / "sessions").iterdir())  # the file store's own count file
    for _ in range(50):
        page = app.server.test_client().get("/login")
        assert page.status_code == 200 and "pnm_session" not in page.headers.get("Set-Cookie", "")
    assert sorted((data / "sessions").iterdir()) == before
    # A token is good only with the cookie of the browser it was given to.
    mine, theirs = app.server.test_client(), app.server.test_client()
    theirs.get("/login")
    page = mine.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {"name": "boss", "password": PASSWORDS["boss"], "csrf": csrf, "next": "/"}
    assert theirs.post("/login", data=form).status_code == 400
    assert mine.post("/login", data=form).status_code == 302


def test_secure_cookies_when_configured(data: Path) -> None:
    app = create_app(load_settings({}, data_dir=str(data), secret_key=SECRET, cookie_secure="true"))
    r = sign_in(app.server.test_client(), "boss")
    assert "Secure" in r.headers["Set-Cookie"]


def test_the_cookie_is_secure_over_https_through_a_trusted_proxy(data: Path) -> None:
    app = create_app(
        load_settings({}, data_dir=str(data), secret_key=SECRET, trusted_proxies="10.0.0.5")
    )
    before = len(events(data))
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.7"}
    via_proxy = client_from(app, "10.0.0.5")
    r = sign_in(via_proxy, "boss", headers=forwarded)
    assert r.status_code == 302 and "Secure" in r.headers["Set-Cookie"]
    direct = client_from(app, "10.0.0.6")  # the same headers, not from the proxy
    r = sign_in(direct, "boss", headers=forwarded)
    assert r.status_code == 302 and "Secure" not in r.headers["Set-Cookie"]
    got = [e["address"] for e in events(data, before) if e["action"] == "sign_in"]
    assert got == ["192.0.2.7", "10.0.0.6"]  # the client behind the proxy; else the peer
    secure = app.server.test_client()
    secure.environ_base["wsgi.url_scheme"] = "https"
    page = secure.get("/login", base_url="https://localhost").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    r = secure.post(
        "/login",
        base_url="https://localhost",
        data={"name": "boss", "password": PASSWORDS["boss"], "csrf": csrf, "next": "/"},
    )
    assert r.status_code == 302 and "Secure" in r.headers["Set-Cookie"]  # HTTPS itself


def test_the_trusted_proxies_are_checked_at_start() -> None:
    with pytest.raises(SettingsError, match="trusted_proxies: not an address"):
        load_settings({"PNM_TRUSTED_PROXIES": "10.0.0.5, proxy.local"})
    assert load_settings({"PNM_TRUSTED_PROXIES": "10.0.0.5, 10.1.0.0/16"}).trusted_proxies == (
        "10.0.0.5", "10.1.0.0/16",
    )  # fmt: skip


def test_healthz_tells_the_anonymous_the_status_and_data_version_only(app: Any) -> None:
    anonymous = app.server.test_client().get("/healthz")
    report = anonymous.get_json()
    assert anonymous.status_code == 200 and set(report) == {"status", "data"}
    assert set(report["data"]) == {"version"} and report["status"] == "ok"
    assert str(os.getpid()) not in anonymous.get_data(as_text=True)
    client = app.server.test_client()
    sign_in(client, "boss")
    full = client.get("/healthz").get_json()
    assert full["data"]["version"] == report["data"]["version"]
    assert {"version", "store", "cache", "warm"} <= set(full)


def test_the_form_needs_its_token_and_next_stays_on_this_site(app: Any) -> None:
    client = app.server.test_client()
    client.get("/login")
    r = client.post("/login", data={"name": "boss", "password": PASSWORDS["boss"], "next": "/"})
    assert r.status_code == 400
    for target in ("//evil.example/x", "https://evil.example", "/\\evil", "/login"):
        page = client.get("/login", query_string={"next": target}).get_data(as_text=True)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        r = client.post("/login", data={"name": "boss", "password": PASSWORDS["boss"],
                                         "csrf": csrf, "next": target})  # fmt: skip
        assert r.headers["Location"] == "/", target
        client.post("/logout")


def test_sessions_end_after_their_hours(
    app: Any, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app.server.test_client()
    sign_in(client, "boss")
    assert client.get("/").status_code == 200
    real = signin_module._now
    monkeypatch.setattr(signin_module, "_now", lambda: real() + 7.9 * 3600)
    assert client.get("/").status_code == 200
    monkeypatch.setattr(signin_module, "_now", lambda: real() + 8 * 3600 + 5)
    assert client.get("/").status_code == 302
    monkeypatch.setattr(signin_module, "_now", real)
    assert client.get("/").status_code == 302  # the expired session was cleared


def test_a_changed_or_removed_account_ends_its_sessions(tmp_path: Path) -> None:
    data = build_secure_data(tmp_path / "data")
    app = create_app(load_settings({}, data_dir=str(data), secret_key=SECRET))
    client = app.server.test_client()
    sign_in(client, "west")
    assert client.get("/").status_code == 200
    users = read_users(data / "users.toml")
    other = app.server.test_client()
    sign_in(other, "west")  # a second session of the same account
    users["west"] = make_user("west", "chief", precincts=["P1", "P2"], password="new-password-1")
    write_users(data / "users.toml", users.values())
    assert client.get("/").status_code == 302
    assert other.get("/").status_code == 302  # every session of the account ends
    sign_in(client, "west", password="new-password-1")
    assert client.get("/").status_code == 200
    del users["west"]
    write_users(data / "users.toml", users.values())
    assert client.get("/").status_code == 302


def test_a_wall_kiosk_signs_in_with_its_token_for_the_wall_only(app: Any, data: Path) -> None:
    before = len(events(data))
    client = app.server.test_client()
    assert client.get(f"/wall?token={WALL_TOKEN}").status_code == 200
    assert client.get("/_dash-layout").status_code == 200
    assert client.get("/").status_code == 403
    assert client.get("/export").status_code == 403
    assert client.get("/export/download?layers=incidents").status_code == 403
    bad = app.server.test_client().get("/wall?token=guessed")
    assert bad.status_code == 403 and "令牌无效" in bad.get_data(as_text=True)
    got = events(data, before)
    assert [e["action"] for e in got] == ["sign_in", "refused", "refused", "refused",
                                          "sign_in_failed"]  # fmt: skip
    assert got[0]["user"] == "lobby" and got[0]["method"] == "token"
    assert WALL_TOKEN not in json.dumps(got)


def test_pages_are_opened_by_role(app: Any) -> None:
    for name, allowed in (
        ("boss", {"/", "/export", "/wall", "/nowhere"}),
        ("west", {"/", "/export"}),
        ("plan", {"/", "/export"}),
    ):
        client = app.server.test_client()
        sign_in(client, name)
        for path in ("/", "/export", "/wall", "/nowhere"):
            code = client.get(path).status_code
            assert code == (200 if path in allowed else 403), (name, path, code)
    refused = app.server.test_client()
    sign_in(refused, "west")
    page = refused.get("/wall?lang=en")
    assert "Access refused" in page.get_data(as_text=True)
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_proxy_header_is_believed_only_from_the_proxy(data: Path) -> None:
    settings = load_settings(
        {}, data_dir=str(data), secret_key=SECRET, auth="proxy",
        proxy_header="X-Remote-User", proxy_addresses="10.0.0.5",
    )  # fmt: skip
    app = create_app(settings)
    before = len(events(data))
    proxy = client_from(app, "10.0.0.5")
    assert proxy.get("/", headers={"X-Remote-User": "west"}).status_code == 200
    assert proxy.get("/", headers={"X-Remote-User": "stranger"}).status_code == 401
    direct = client_from(app, "10.0.0.6")
    assert direct.get("/", headers={"X-Remote-User": "boss"}).status_code == 401
    assert direct.get("/login").status_code == 401  # no form: the portal signs people in
    got = events(data, before)
    assert [(e["action"], e["user"]) for e in got] == [
        ("sign_in", "west"), ("sign_in_failed", "stranger"),
    ]  # fmt: skip


def test_sign_in_off_says_so_on_the_page(data: Path) -> None:
    app = create_app(load_settings({}, data_dir=str(data), auth="none"))
    client = app.server.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/login").status_code == 302
    router = next(k for k in app.callback_map if k.startswith("..page.children"))
    for lang, text in (("zh", "未启用登录（演示）"), ("en", "Sign-in disabled (demo)")):
        body = callback_body(
            app, router, {("url", "pathname"): "/", ("url", "search"): f"?lang={lang}"}
        )
        r = post_callback(client, body)
        assert text in json.dumps(r.get_json(), ensure_ascii=False)


def test_the_signed_in_user_and_sign_out_are_on_the_page(app: Any) -> None:
    client = app.server.test_client()
    sign_in(client, "west")
    router = next(k for k in app.callback_map if k.startswith("..page.children"))
    r = post_callback(client, callback_body(app, router, {("url", "pathname"): "/"}))
    page = json.dumps(r.get_json(), ensure_ascii=False)
    assert "当前用户：west（派出所所长）" in page and '"/logout?lang=zh"' in page
    assert '"method": "POST"' in page  # sign-out is a form posted, not a link
    assert "未启用登录" not in page


# --------------------------------------------------------------------------- headers


def test_headers_on_pages_callbacks_and_assets(app: Any) -> None:
    client = app.server.test_client()
    sign_in(client, "boss")
    page = client.get("/")
    csp = page.headers["Content-Security-Policy"]
    hashes = re.findall(r"'sha256-[^']+'", csp)
    assert sorted(hashes) == sorted(app.csp_hashes())
    # Dash's "no Internet Explorer" alert sits in an HTML comment: it never runs.
    html = re.sub(r"<!--.*?-->", "", page.get_data(as_text=True), flags=re.S)
    for inline in re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>(.*?)</script>", html, re.S):
        if "application/json" not in inline[0]:
            import base64
            import hashlib

            digest = base64.b64encode(hashlib.sha256(inline[1].encode()).digest()).decode()
            assert f"'sha256-{digest}'" in hashes  # every executed inline script is allowed
    assert "script-src 'self' 'sha256-" in csp and "'unsafe-eval'" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    for r in (page, client.get("/_dash-layout")):
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "no-referrer"
        assert r.headers["X-Frame-Options"] == "DENY"
        assert "Cookie" in r.headers["Vary"] and r.headers["Cache-Control"] == "no-store"
    asset = client.get("/assets/pnm.css")
    assert asset.status_code == 200 and "no-store" not in asset.headers.get("Cache-Control", "")
    asset.close()


def test_the_policy_names_the_tile_server() -> None:
    assert tile_source("https://tiles.bureau.local/{z}/{x}/{y}.png") == "https://tiles.bureau.local"
    assert tile_source("http://{s}.tile.example.cn:8080/{z}/{x}/{y}.png") == (
        "http://*.tile.example.cn:8080"
    )
    assert tile_source("/tiles/{z}/{x}/{y}.png") == ""
    csp = content_security_policy(["'sha256-x'"], "https://t.local/{z}/{x}/{y}.png")
    assert "img-src 'self' data: https://t.local;" in csp
    assert "connect-src 'self';" in csp and "https://t.local" not in csp.split("img-src")[0]


# --------------------------------------------------------------------------- coverage


def test_every_route_and_callback_has_an_access_rule(app: Any) -> None:
    """A route or callback added later fails here until dashboard/auth classifies it."""
    unclassified = [r.rule for r in app.server.url_map.iter_rules() if route_kind(r.rule) is None]
    assert unclassified == []
    missing = [k for k, v in app.callback_map.items() if "callback" in v and feature_of(v) is None]
    assert missing == []


def test_an_unclassified_route_is_refused_even_to_the_commander(data: Path) -> None:
    app = create_app(load_settings({}, data_dir=str(data), secret_key=SECRET))
    app.server.add_url_rule("/secret-report", "secret", lambda: "rows")
    client = app.server.test_client()
    sign_in(client, "boss")
    assert client.get("/secret-report").status_code == 403


def test_audit_lines_are_one_json_object_each(data: Path) -> None:
    lines = (data / "audit" / "audit.log").read_text(encoding="utf-8").splitlines()
    assert lines
    for line in lines:
        event = json.loads(line)
        assert {"time", "user", "action"} <= set(event)
    assert os.access(data / "audit" / "audit.log", os.R_OK)
