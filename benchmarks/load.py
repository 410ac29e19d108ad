"""Load on the dashboard under gunicorn: wall screens refreshing and chiefs using the map.

Starts gunicorn on loopback (a free port, the Procfile's worker settings, auth off) on a
data directory (default: the ``county`` demo in ``data/demo``) with the Redis cache on a
private ``redis-server`` it starts and stops itself (``--cache simple`` for none), then
drives it for ``--seconds`` (default 120) with:

- ``--walls`` (4) wall screens, each posting the wall's refresh callback every
  ``--wall-refresh`` seconds (default 10: six times the production default of 60 s);
- ``--chiefs`` (50) chiefs, each opening the map, then again and again, after a think
  time of 1–5 s, changing the layer, the window or the zoom — one action posts the data
  callback and then the style and URL callbacks the browser would chain after it.

The requests are the real Dash callback payloads, built from the page's callback map
(``/_dash-dependencies``) and the values of the page the route callback returns. Prints
throughput, latency percentiles (p50/p95/p99) per callback and overall, errors, the
resident memory (RSS) of each gunicorn worker before and after, and the memory the Redis
cache uses at the end.

With the cache warm-up on (the default, ``PNM_WARM=1``) the load starts once every
worker's ``/healthz`` says its warm-up is done, and the time from starting gunicorn to
then is reported (``seconds_to_warm``); ``--no-warm`` runs without it. By default sign-in
is off and every "chief" sees the whole county; ``--scoped`` signs each chief in (a
trusted proxy header on loopback) as the chief of one precinct, round robin over the
data's precincts, and the walls as a commander.

``--rebuild-at S`` rebuilds the cubes (``python -m geodata cubes``, on this machine, into a
copy of the cubes folder) ``S`` seconds into the load, as a data refresh does: every cached
view belongs to the old data version from then on, so the chiefs meet cold views while
the warm-up warms the new one. The figures are then also given for the requests sent
before the rebuild started and for those sent after (``phases``), with the seconds the
rebuild took and those until every worker had warmed the new version.

    python -m benchmarks.load [--seconds 120] [--chiefs 50] [--walls 4] [--data DIR]
                              [--no-warm] [--scoped] [--rebuild-at S]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
ROUTE = "..page.children...document.data.."
LAYER = "..hex-data.data...layer-key.data...resolution-text.children...window-text.children.."
STYLE = "layer-styles.data"  # the styles of every scheme; the browser picks one
URL = "..url.search...lang-zh.href...lang-en.href.."
WALL = (
    "..wall-status.data...wall-figures.children...wall-gaps.children...wall-legends.children"
    "...wall-views.data...wall-footer.children.."
)


def procfile_args(procfile: Path = ROOT / "Procfile") -> list[str]:
    """The gunicorn options of the Procfile's ``web`` line, without ``--bind`` (the
    benchmark binds loopback), so the benchmark runs what production runs."""
    line = next(x for x in procfile.read_text().splitlines() if x.startswith("web:"))
    words = line.split()[words_start(line) :]
    out: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word == "--bind":
            skip = True
        elif not word.startswith("--bind="):
            out.append(word)
    return out


def words_start(line: str) -> int:
    """Index of the first option after the app in a Procfile line."""
    return line.split().index("dashboard.app:server") + 1


TARGET_P95_MS = 300.0


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout_s: float = 120.0) -> None:
    """Wait until ``url`` answers 200 (the app builds in the master: seconds)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout_s:.0f} s")


def wait_warm(
    url: str, workers: int, timeout_s: float = 1800.0, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """Wait until ``/healthz`` has said, for ``workers`` distinct workers, that their
    cache warm-up is over (``done``, or ``off``); their reports, by worker. ``headers``
    sign the request in: an anonymous caller is told the status and data version only."""
    seen: dict[str, Any] = {}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            warm = requests.get(url, headers=headers, timeout=10).json().get("warm", {})
        except (requests.RequestException, ValueError):
            warm = {}
        if warm.get("state") == "off":
            return {"off": warm}
        if warm.get("state") == "done":
            seen[str(warm.get("worker"))] = warm
            if len(seen) >= workers:
                return seen
        time.sleep(0.5)
    raise RuntimeError(f"the warm-up did not end within {timeout_s:.0f} s: {seen}")


def procfile_workers() -> int:
    """The Procfile's ``--workers``."""
    args = procfile_args()
    return int(args[args.index("--workers") + 1]) if "--workers" in args else 1


def start_gunicorn(
    data_dir: Path, port: int, env: dict[str, str], log_path: Path
) -> subprocess.Popen[bytes]:
    """gunicorn on ``127.0.0.1:port`` serving ``data_dir`` (auth off unless ``env`` sets
    ``PNM_AUTH``)."""
    full = {**os.environ, "PNM_AUTH": "none", **env, "PNM_DATA_DIR": str(data_dir)}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    with log_path.open("wb") as log_file:
        return subprocess.Popen(
            [gunicorn, "dashboard.app:server", "--bind", f"127.0.0.1:{port}", *procfile_args()],
            cwd=ROOT,
            env=full,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )


def stop_gunicorn(server: subprocess.Popen[bytes]) -> None:
    """Stop gunicorn gracefully (its graceful timeout), killing it if it takes longer."""
    server.terminate()
    try:
        server.wait(timeout=40)
    except subprocess.TimeoutExpired:
        server.kill()


PROXY_HEADER = "X-Remote-User"
WALL_USER = "load-commander"


def chief_name(seed: int) -> str:
    return f"load-chief-{seed:03d}"


def scoped_env(data_dir: Path, chiefs: int, folder: Path) -> dict[str, str]:
    """Sign-in through a trusted proxy header (loopback) with a users file of ``chiefs``
    chiefs, the i-th scoped to the i-th precinct of the data (round robin), and one
    commander for the walls: every chief's requests then run on their own scope, as in
    production."""
    import secrets

    from dashboard.auth.users import make_user, write_users
    from geodata.store import read_table

    precincts = sorted(read_table(data_dir, "precincts")["precinct_id"].astype(str))
    users = [make_user(WALL_USER, "commander")] + [
        make_user(chief_name(i), "chief", precincts=[precincts[i % len(precincts)]])
        for i in range(chiefs)
    ]
    path = folder / "users.toml"
    write_users(path, users)
    return {
        "PNM_AUTH": "proxy",
        "PNM_PROXY_HEADER": PROXY_HEADER,
        "PNM_PROXY_ADDRESSES": "127.0.0.1",
        "PNM_USERS_FILE": str(path),
        "PNM_SECRET_KEY": secrets.token_hex(32),
    }


def linked_data_dir(data_dir: Path, folder: Path, copied: tuple[str, ...] = ()) -> Path:
    """A data directory in ``folder`` whose entries are links to ``data_dir``'s, but for
    the ``copied`` ones (copies): signed-in runs write audit events (sign-ins) into the
    data directory, a rebuild writes its cubes, and a benchmark must not write into the
    data it reads."""
    out = folder / "data"
    out.mkdir()
    for entry in data_dir.iterdir():
        if entry.name in copied:
            shutil.copytree(entry, out / entry.name)
        elif entry.name != "audit":
            (out / entry.name).symlink_to(entry.resolve())
    return out


def worker_rss(master_pid: int) -> dict[int, float]:
    """Resident memory (MiB) of each gunicorn worker of ``master_pid``."""
    out = {}
    for child in psutil.Process(master_pid).children():
        try:
            out[child.pid] = child.memory_info().rss / 2**20
        except psutil.NoSuchProcess:
            continue
    return out


def cpu_seconds(master_pid: int) -> dict[str, float]:
    """CPU seconds (user + system) so far: of the gunicorn workers (alive now, plus the
    ones the master has reaped: a worker replaced after ``--max-requests``), of this
    process, and of the whole machine (all cores, busy time)."""
    master = psutil.Process(master_pid).cpu_times()
    workers = master.children_user + master.children_system
    for child in psutil.Process(master_pid).children():
        try:
            t = child.cpu_times()
            workers += t.user + t.system
        except psutil.NoSuchProcess:
            continue
    own = psutil.Process().cpu_times()
    machine = psutil.cpu_times()
    busy = sum(machine) - machine.idle - getattr(machine, "iowait", 0.0)
    return {"workers": workers, "client": own.user + own.system, "machine": busy}


def find_props(tree: Any) -> dict[str, dict[str, Any]]:
    """Component id -> its props, for every component with a string id in ``tree``."""
    found: dict[str, dict[str, Any]] = {}
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict):
                if isinstance(props.get("id"), str):
                    found[props["id"]] = props
                stack.extend(props.values())
            else:
                stack.extend(node.values())
    return found


def split_output(output: str) -> list[dict[str, str]]:
    """The outputs of a dependency's ``output`` string, as Dash's renderer posts them."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    return [dict(zip(("id", "property"), p.rsplit(".", 1), strict=True)) for p in parts]


@dataclass
class Callbacks:
    """The callback map of the app: output string -> dependency."""

    deps: dict[str, dict[str, Any]]

    def payload(self, output: str, values: dict[str, Any], changed: list[str]) -> dict[str, Any]:
        """The body Dash's renderer posts for ``output`` with ``values`` (``id.prop`` ->
        value; missing ones are None)."""
        dep = self.deps[output]

        def items(kind: str) -> list[dict[str, Any]]:
            return [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in dep[kind]]

        outputs = split_output(output)
        return {
            "output": output,
            # A single-output callback's renderer posts the output itself, not a list.
            "outputs": outputs if output.startswith("..") else outputs[0],
            "inputs": items("inputs"),
            "state": items("state"),
            "changedPropIds": changed,
        }


@dataclass
class Recorder:
    """Latencies and errors of every request, by callback name (thread-safe)."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)
    # (sent at, perf_counter; latency s; failed) of every request, for phases of a run.
    log: list[tuple[float, float, bool]] = field(default_factory=list)

    def post(
        self, session: requests.Session, base: str, name: str, body: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Post one callback; its ``response`` (None on an error or a 204)."""
        t0 = time.perf_counter()
        try:
            r = session.post(f"{base}/_dash-update-component", json=body, timeout=60)
            elapsed = time.perf_counter() - t0
            ok = r.status_code in (200, 204)
            with self.lock:
                self.times[name].append(elapsed)
                self.log.append((t0, elapsed, not ok))
                if not ok:
                    self.errors[name].append(f"HTTP {r.status_code}")
            return r.json().get("response") if r.status_code == 200 else None
        except (requests.RequestException, ValueError) as exc:
            with self.lock:
                self.times[name].append(time.perf_counter() - t0)
                self.log.append((t0, time.perf_counter() - t0, True))
                self.errors[name].append(type(exc).__name__)
            return None


def open_page(
    session: requests.Session, base: str, cbs: Callbacks, rec: Recorder, path: str
) -> dict[str, dict[str, Any]]:
    """The route callback for ``path``: the page's components' props."""
    body = cbs.payload(ROUTE, {"url.pathname": path, "url.search": ""}, ["url.pathname"])
    response = rec.post(session, base, "route", body)
    return find_props(response["page"]["children"]) if response else {}


def _zoomed(bounds: list[list[float]], factor: float) -> list[list[float]]:
    (s, w), (n, e) = bounds
    cy, cx = (s + n) / 2, (w + e) / 2
    hy, hx = (n - s) / 2 * factor, (e - w) / 2 * factor
    return [[cy - hy, cx - hx], [cy + hy, cx + hx]]


def chief(
    base: str, cbs: Callbacks, rec: Recorder, stop: threading.Event, seed: int, scoped: bool = False
) -> None:
    """One chief: open the map, then change layer, window or zoom with think time."""
    rng = random.Random(seed)
    session = requests.Session()
    if scoped:
        session.headers[PROXY_HEADER] = chief_name(seed)
    props = open_page(session, base, cbs, rec, "/")
    if not props:
        return
    layers = [o["value"] for o in props["layer-choice"]["options"] if not o.get("disabled")]
    presets = [o["value"] for o in props["window-preset"]["options"] if not o.get("disabled")]
    presets = [p for p in presets if p != "custom"] or presets
    full = props["map"]["bounds"]
    values: dict[str, Any] = {
        f"{cid}.{k}": v for cid, p in props.items() for k, v in p.items() if k != "children"
    }
    values.update({"map.zoom": 10, "map.bounds": full, "page-lang.data": "zh"})
    changed = ["layer-choice.value"]
    while not stop.is_set():
        name = f"layer:{values['layer-choice.value']}"  # the data callback, per layer
        response = rec.post(session, base, name, cbs.payload(LAYER, values, changed))
        if response and "layer-key" in response:
            values["layer-key.data"] = response["layer-key"]["data"]
            rec.post(session, base, "style", cbs.payload(STYLE, values, ["layer-key.data"]))
        rec.post(session, base, "url", cbs.payload(URL, values, [changed[0]]))
        if stop.wait(rng.uniform(1.0, 5.0)):
            break
        action = rng.choice(("layer", "window", "zoom"))
        if action == "layer":
            values["layer-choice.value"] = rng.choice(layers)
            changed = ["layer-choice.value"]
        elif action == "window":
            values["window-preset.value"] = rng.choice(presets)
            changed = ["window-preset.value"]
        else:
            zoom = int(np.clip(values["map.zoom"] + rng.choice((-1, 1)), 10, 14))
            values["map.zoom"] = zoom
            values["map.bounds"] = _zoomed(full, 2.0 ** (10 - zoom))
            changed = ["map.zoom"]


def wall(
    base: str,
    cbs: Callbacks,
    rec: Recorder,
    stop: threading.Event,
    period_s: float,
    scoped: bool = False,
) -> None:
    """One wall screen: open /wall, then post its refresh callback every ``period_s``."""
    session = requests.Session()
    if scoped:
        session.headers[PROXY_HEADER] = WALL_USER
    props = open_page(session, base, cbs, rec, "/wall")
    values: dict[str, Any] = {
        "wall-config.data": props.get("wall-config", {}).get("data"),
        "wall-status.data": props.get("wall-status", {}).get("data"),
    }
    n = 0
    while not stop.is_set():
        n += 1
        values["wall-refresh.n_intervals"] = n
        response = rec.post(
            session, base, "wall", cbs.payload(WALL, values, ["wall-refresh.n_intervals"])
        )
        if response and "wall-status" in response:
            values["wall-status.data"] = response["wall-status"]["data"]
        if stop.wait(period_s):
            break


def summary(rec: Recorder, seconds: float) -> dict[str, Any]:
    """Throughput, percentiles (ms) and errors, per callback and overall."""
    out: dict[str, Any] = {}
    every = [t for ts in rec.times.values() for t in ts]
    for name, ts in [*sorted(rec.times.items()), ("all", every)]:
        ms = np.asarray(ts) * 1000
        errors = (
            sum(len(e) for e in rec.errors.values()) if name == "all" else len(rec.errors[name])
        )
        out[name] = {
            "requests": int(ms.size),
            "per_s": round(ms.size / seconds, 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 1) if ms.size else None,
            "p95_ms": round(float(np.percentile(ms, 95)), 1) if ms.size else None,
            "p99_ms": round(float(np.percentile(ms, 99)), 1) if ms.size else None,
            "max_ms": round(float(ms.max()), 1) if ms.size else None,
            "errors": errors,
        }
    return out


def phase(rec: Recorder, since: float, until: float) -> dict[str, Any]:
    """Throughput, percentiles (ms) and errors of the requests sent in [since, until)
    (``time.perf_counter`` seconds)."""
    rows = [(t, e, bad) for t, e, bad in rec.log if since <= t < until]
    ms = np.asarray([e for _, e, _ in rows]) * 1000
    span = max(min(until, time.perf_counter()) - since, 1e-9)
    return {
        "seconds": round(span, 1),
        "requests": int(ms.size),
        "per_s": round(ms.size / span, 1),
        **{
            f"p{q}_ms": round(float(np.percentile(ms, q)), 1) if ms.size else None
            for q in (50, 95, 99)
        },
        "max_ms": round(float(ms.max()), 1) if ms.size else None,
        "errors": sum(bad for _, _, bad in rows),
    }


@dataclass
class Rebuild:
    """A rebuild of the cubes during the load (``--rebuild-at``): when it ran, when every
    worker had put the data version it made in service, and when every worker had warmed
    all of that version's views."""

    data_dir: Path
    at_s: float
    headers: dict[str, str] = field(default_factory=dict)  # signs /healthz in
    started: float | None = None
    built: float | None = None
    switched: float | None = None
    warm: float | None = None
    failed: str = ""

    def run(self, base: str, workers: int, stop: threading.Event) -> None:
        if stop.wait(self.at_s):
            return
        old = self._health(base).get("data", {}).get("version")
        self.started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "geodata", "cubes", "--data", str(self.data_dir)],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        self.built = time.perf_counter()
        built_epoch = time.time()
        if done.returncode:
            self.failed = done.stderr.strip().splitlines()[-1] if done.stderr else "failed"
            return
        switched: set[str] = set()
        warmed: set[str] = set()
        while not stop.is_set() and len(warmed) < workers:
            health = self._health(base)
            warm, worker = health.get("warm", {}), str(health.get("warm", {}).get("worker"))
            if health.get("data", {}).get("version") not in (None, old):
                switched.add(worker)
                if len(switched) >= workers and self.switched is None:
                    self.switched = time.perf_counter()
            # A whole pass (not the staged one) that began after the build: the new
            # version's.
            if (
                warm.get("state") == "done"
                and not warm.get("staged")
                and float(warm.get("began") or 0) >= built_epoch
            ):
                warmed.add(worker)
            stop.wait(0.5)
        if len(warmed) >= workers:
            self.warm = time.perf_counter()

    def _health(self, base: str) -> dict[str, Any]:
        try:
            return dict(requests.get(f"{base}/healthz", headers=self.headers, timeout=10).json())
        except (requests.RequestException, ValueError):
            return {}

    def figures(self, rec: Recorder, t0: float, end: float) -> dict[str, Any]:
        if self.started is None:
            return {"rebuild": "not reached"}

        def since_start(t: float | None) -> float | None:
            return None if t is None or self.started is None else round(t - self.started, 1)

        return {
            "rebuild_started_s": round(self.started - t0, 1),
            "rebuild_seconds": since_start(self.built),
            "rebuild_failed": self.failed or None,
            # From the start of the rebuild until every worker served the new version,
            # and until every worker had warmed all its views (None: not within the run).
            "seconds_to_switch": since_start(self.switched),
            "seconds_to_warm_again": since_start(self.warm),
            "phases": {
                "before_rebuild": phase(rec, t0, self.started),
                "from_rebuild": phase(rec, self.started, end),
            },
        }


def start_redis(port: int) -> None:
    """A private, memory-only redis-server on loopback ``port``."""
    subprocess.run(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--daemonize", "yes"],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while (
        subprocess.run(
            ["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True, check=False
        ).stdout.strip()
        != "PONG"
    ):
        if time.monotonic() > deadline:
            raise RuntimeError(f"redis-server on port {port} did not start")
        time.sleep(0.1)


def redis_used_mib(port: int) -> float | None:
    """The memory the private Redis uses (``INFO memory``: ``used_memory``), MiB."""
    out = subprocess.run(
        ["redis-cli", "-p", str(port), "info", "memory"], capture_output=True, text=True,
        check=False,
    ).stdout  # fmt: skip
    for line in out.splitlines():
        if line.startswith("used_memory:"):
            return round(int(line.split(":", 1)[1]) / 2**20, 1)
    return None


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the scenario and print (and return) the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "demo")
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--chiefs", type=int, default=50)
    parser.add_argument("--walls", type=int, default=4)
    parser.add_argument("--wall-refresh", type=float, default=10.0)
    parser.add_argument("--cache", choices=("redis", "simple"), default="redis")
    parser.add_argument(
        "--no-warm", action="store_true", help="PNM_WARM=0: no cache warm-up (the default "
        "warms, and the load starts once every worker's warm-up is over)"
    )  # fmt: skip
    parser.add_argument(
        "--scoped", action="store_true", help="each chief signed in (trusted proxy header) "
        "as a chief of one precinct (round robin), the walls as a commander; default: "
        "sign-in off, everybody sees the whole county"
    )  # fmt: skip
    parser.add_argument(
        "--rebuild-at", type=float, metavar="S", help="rebuild the cubes (into a copy) S "
        "seconds into the load, as a data refresh does, and report the requests before "
        "and after it apart"
    )  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= 3600 or not 0 <= args.chiefs <= 500 or not 0 <= args.walls <= 50:
        parser.error("seconds must be 1..3600, chiefs 0..500, walls 0..50")

    port = free_port()
    env: dict[str, str] = {"PNM_CACHE": "simple"}
    redis_port = None
    if args.cache == "redis":
        if shutil.which("redis-server") is None:
            parser.error("--cache redis needs redis-server")
        redis_port = free_port()
        start_redis(redis_port)
        env = {"PNM_CACHE": "redis", "PNM_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}
    env["PNM_WARM"] = "0" if args.no_warm else "1"
    data_dir = args.data.resolve()
    if args.rebuild_at is not None and not 0 < args.rebuild_at < args.seconds:
        parser.error("--rebuild-at must lie within the run (0 < S < --seconds)")
    if args.scoped or args.rebuild_at is not None:
        folder = Path(tempfile.mkdtemp(prefix="pnm-load-"))
        if args.scoped:
            env.update(scoped_env(data_dir, args.chiefs, folder))
        copied = ("cubes",) if args.rebuild_at is not None else ()
        data_dir = linked_data_dir(data_dir, folder, copied)
    log_path = Path(tempfile.mkstemp(prefix="pnm-load-", suffix=".log")[1])
    started = time.monotonic()
    load_at_start = os.getloadavg()[0]
    server = start_gunicorn(data_dir, port, env, log_path)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/healthz")
        healthy_s = time.monotonic() - started
        # The load starts once the warm-up is over: its time is reported, not hidden.
        who = {PROXY_HEADER: WALL_USER} if args.scoped else {}
        warm = wait_warm(f"{base}/healthz", procfile_workers(), headers=who)
        warm_s = time.monotonic() - started
        deps = requests.get(f"{base}/_dash-dependencies", headers=who, timeout=10).json()
        cbs = Callbacks({d["output"]: d for d in deps})
        rss_before = worker_rss(server.pid)
        cpu_before = cpu_seconds(server.pid)
        load_before = os.getloadavg()[0]
        rec = Recorder()
        stop = threading.Event()
        rebuild = None if args.rebuild_at is None else Rebuild(data_dir, args.rebuild_at, who)
        threads = [
            threading.Thread(
                target=wall, args=(base, cbs, rec, stop, args.wall_refresh, args.scoped)
            )
            for _ in range(args.walls)
        ] + [
            threading.Thread(target=chief, args=(base, cbs, rec, stop, seed, args.scoped))
            for seed in range(args.chiefs)
        ]
        if rebuild is not None:
            threads.append(
                threading.Thread(target=rebuild.run, args=(base, procfile_workers(), stop))
            )
        t0 = time.monotonic()
        t0_perf = time.perf_counter()
        for thread in threads:
            thread.start()
            time.sleep(0.02)  # users arrive over a second, not in one instant
        stop.wait(args.seconds)
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
        elapsed = time.monotonic() - t0
        end_perf = time.perf_counter()
        rss_after = worker_rss(server.pid)
        cpu_after = cpu_seconds(server.pid)
        redis_mib = None if redis_port is None else redis_used_mib(redis_port)
        figures = {
            "seconds": round(elapsed, 1),
            "chiefs": args.chiefs,
            "walls": args.walls,
            "cache": args.cache,
            "scoped": args.scoped,
            "callbacks": summary(rec, elapsed),
            "worker_rss_mib_before": {str(k): round(v, 1) for k, v in rss_before.items()},
            "worker_rss_mib_after": {str(k): round(v, 1) for k, v in rss_after.items()},
            # What the shared cache holds at the end (every warm view, every scope).
            "redis_used_mib": redis_mib,
            "error_samples": {k: v[:3] for k, v in rec.errors.items() if v},
            "cpu_count": os.cpu_count(),
            "load_average_at_gunicorn_start": round(load_at_start, 2),
            "load_average_before": round(load_before, 2),
            "warm": "off" if args.no_warm else "on",
            "seconds_to_healthy": round(healthy_s, 1),
            # From starting gunicorn to every worker's warm-up over (the load starts then).
            "seconds_to_warm": None if args.no_warm else round(warm_s, 1),
            "warm_reports": warm,
            # CPU seconds used during the run, by the workers and by this client (the
            # client shares the machine: what it uses, the server does not get).
            "cpu_s_workers": round(cpu_after["workers"] - cpu_before["workers"], 1),
            "cpu_s_client": round(cpu_after["client"] - cpu_before["client"], 1),
            "cpu_s_machine": round(cpu_after["machine"] - cpu_before["machine"], 1),
        }
        if rebuild is not None:
            figures.update(rebuild.figures(rec, t0_perf, end_perf))
    finally:
        stop_gunicorn(server)
        if redis_port is not None:
            subprocess.run(
                ["redis-cli", "-p", str(redis_port), "shutdown", "nosave"],
                capture_output=True, check=False,
            )  # fmt: skip
    text = json.dumps(figures, indent=2, ensure_ascii=False)
    print(text)
    overall = figures["callbacks"]["all"]
    verdict = (
        "met" if (overall["p95_ms"] or 0) <= TARGET_P95_MS and not overall["errors"] else "MISSED"
    )
    print(
        f"target p95 <= {TARGET_P95_MS:.0f} ms and 0 errors: {verdict} (gunicorn log: {log_path})"
    )
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return figures


if __name__ == "__main__":
    main()
