"""With Redis, the sign-in counts are shared by every worker: a name locked from an
address in one app (a worker) is locked there in another; Redis down, the counts of each
worker serve meanwhile and sign-in never answers 500."""

from __future__ import annotations

from pathlib import Path

from dashboard.app import create_app
from dashboard.settings import load_settings
from tests.dashboard.auth_data import SECRET, build_secure_data, client_from, sign_in
from tests.production.conftest import PrivateRedis


def test_a_lock_set_in_one_worker_holds_in_the_other(
    tmp_path: Path, private_redis: PrivateRedis
) -> None:
    data = build_secure_data(tmp_path / "data")
    settings = load_settings(
        {}, data_dir=str(data), secret_key=SECRET, cache="redis", redis_url=private_redis.url
    )
    first, second = create_app(settings), create_app(settings)
    attacker = client_from(first, "10.9.9.9")
    for _ in range(5):
        assert sign_in(attacker, "boss", password="guess-guess-guess").status_code == 401
    assert private_redis.keys("pnm-throttle:*")
    again = client_from(second, "10.9.9.9")
    r = sign_in(again, "boss")  # the other worker, the right password, the locked address
    assert r.status_code == 429 and "后再试" in r.get_data(as_text=True)
    assert sign_in(client_from(second, "10.1.1.1"), "boss").status_code == 302

    private_redis.stop()  # counts in Redis unreachable: each worker's own serve
    for _ in range(5):
        r = sign_in(client_from(first, "10.8.8.8"), "west", password="guess-guess-guess")
        assert r.status_code == 401
    assert sign_in(client_from(first, "10.8.8.8"), "west").status_code == 429
