"""Failed sign-ins slowed down without letting anybody lock another person out.

Two counts, kept in Redis with ``PNM_CACHE=redis`` (shared by every worker: the limits
and a lock's end hold whichever worker answers), else in each worker's memory:

- per (user name, address): the first :data:`PAIR_FREE` failures cost nothing; then each
  further failure locks that name *from that address* for a delay that doubles — 1, 2,
  4, 8 minutes, at most :data:`PAIR_MAX_DELAY_S` — so guessing one password from one
  place gets slower and slower. The count is forgotten :data:`PAIR_MEMORY_S` after the
  last failure, or at a good sign-in.
- per address: :data:`ADDRESS_FAILURES` failures of any names within
  :data:`ADDRESS_WINDOW_S` lock the address (a spray over many names, or bad wall tokens).

A name is never locked as such: somebody who knows the commander's name and types wrong
passwords from their own machine locks only (name, their address) and their address;
the commander signs in from the command centre as usual. The address is the client's as
the app sees it (behind a trusted reverse proxy, the one it forwards; see
:mod:`dashboard.auth.proxies`).

Flask-Limiter is not used: it counts requests per fixed or moving window, and cannot
express a delay that doubles with each further failure of one (name, address) pair.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeVar, cast

from redis import Redis, RedisError

log = logging.getLogger(__name__)
T = TypeVar("T")

PAIR_FREE: Final = 5
"""Failures of one (name, address) before the first delay."""
PAIR_BASE_DELAY_S: Final = 60.0
PAIR_MAX_DELAY_S: Final = 15 * 60.0
PAIR_MEMORY_S: Final = 60 * 60.0
"""A (name, address) pair's failures are forgotten this long after its last one."""
ADDRESS_FAILURES: Final = 20
ADDRESS_WINDOW_S: Final = 15 * 60.0
MAX_KEYS: Final = 100_000
"""Keys kept before the forgotten ones are swept (memory bound under a spray)."""


@dataclass
class _Pair:
    failures: int
    last: float
    until: float


def pair_delay_s(failures: int) -> float:
    """The lock after ``failures`` failures of one (name, address): 0 for the first
    :data:`PAIR_FREE` - 1, then 60 s doubling, at most :data:`PAIR_MAX_DELAY_S`."""
    if failures < PAIR_FREE:
        return 0.0
    return float(min(PAIR_BASE_DELAY_S * 2 ** (failures - PAIR_FREE), PAIR_MAX_DELAY_S))


@dataclass(frozen=True)
class Lock:
    """Why and how long sign-in is held back: ``scope`` is ``name`` (this name from this
    address) or ``address`` (every name from this address)."""

    seconds: float
    scope: str


class MemoryCounts:
    """The counts in this process's memory (one worker's)."""

    def __init__(self) -> None:
        self._pairs: dict[tuple[str, str], _Pair] = {}
        self._addresses: dict[str, deque[float]] = {}

    def pair(self, key: tuple[str, str], now: float) -> _Pair | None:
        """The failures of (name, address), None when none are remembered."""
        pair = self._pairs.get(key)
        if pair is not None and now - pair.last >= PAIR_MEMORY_S:
            del self._pairs[key]
            return None
        return None if pair is None else _Pair(pair.failures, pair.last, pair.until)

    def put_pair(self, key: tuple[str, str], pair: _Pair) -> None:
        self._pairs[key] = pair
        if len(self._pairs) + len(self._addresses) > MAX_KEYS:
            self._sweep(pair.last)

    def drop_pair(self, key: tuple[str, str]) -> None:
        self._pairs.pop(key, None)

    def address_failures(self, address: str, now: float, *, add: bool = False) -> list[float]:
        """The times of the address's failures within the window (first adding one now)."""
        found = self._addresses.setdefault(address, deque())
        while found and found[0] <= now - ADDRESS_WINDOW_S:
            found.popleft()
        if add:
            found.append(now)
        return list(found)

    def _sweep(self, now: float) -> None:
        self._pairs = {k: p for k, p in self._pairs.items() if now - p.last < PAIR_MEMORY_S}
        self._addresses = {
            a: d for a, d in self._addresses.items() if d and d[-1] > now - ADDRESS_WINDOW_S
        }


class RedisCounts:
    """The counts in Redis, shared by every worker and host (``PNM_CACHE=redis``): a
    pair is a JSON value living :data:`PAIR_MEMORY_S`, an address a sorted set of its
    failure times. Two failures at the same instant in two workers may count once."""

    PREFIX: Final = "pnm-throttle:"

    def __init__(self, client: Redis) -> None:
        self.client = client

    def _pair_key(self, key: tuple[str, str]) -> str:
        digest = hashlib.sha256("\0".join(key).encode("utf-8")).hexdigest()[:32]
        return f"{self.PREFIX}pair:{digest}"

    def pair(self, key: tuple[str, str], now: float) -> _Pair | None:
        raw = cast("bytes | None", self.client.get(self._pair_key(key)))
        if not raw:
            return None
        found = json.loads(raw)
        pair = _Pair(int(found["failures"]), float(found["last"]), float(found["until"]))
        return None if now - pair.last >= PAIR_MEMORY_S else pair

    def put_pair(self, key: tuple[str, str], pair: _Pair) -> None:
        value = json.dumps({"failures": pair.failures, "last": pair.last, "until": pair.until})
        self.client.set(self._pair_key(key), value, ex=int(PAIR_MEMORY_S))

    def drop_pair(self, key: tuple[str, str]) -> None:
        self.client.delete(self._pair_key(key))

    def address_failures(self, address: str, now: float, *, add: bool = False) -> list[float]:
        key = f"{self.PREFIX}address:{address}"
        pipe = self.client.pipeline()
        pipe.zremrangebyscore(key, "-inf", now - ADDRESS_WINDOW_S)
        if add:
            pipe.zadd(key, {f"{now!r}:{secrets.token_hex(4)}": now})
            pipe.expire(key, int(ADDRESS_WINDOW_S) + 1)
        pipe.zrange(key, 0, -1, withscores=True)
        found = pipe.execute()[-1]
        return sorted(float(score) for _member, score in found)


Counts = MemoryCounts | RedisCounts


class Throttle:
    """The two counts of the module docstring.

    Parameters
    ----------
    clock : callable
        Seconds (a test passes its own); the wall clock, so a lock's end can be shown.
    counts : MemoryCounts or RedisCounts, optional
        Where the counts are kept (default: this process's memory). When Redis cannot be
        reached, this process's memory serves meanwhile: sign-in never fails for it.
    """

    def __init__(
        self, clock: Callable[[], float] = time.time, counts: Counts | None = None
    ) -> None:
        self.clock = clock
        self.counts: Counts = counts or MemoryCounts()
        self._memory = self.counts if isinstance(self.counts, MemoryCounts) else MemoryCounts()
        self._lock = threading.Lock()

    def _run(self, step: Callable[[Counts, float], T]) -> T:
        with self._lock:
            now = self.clock()
            try:
                return step(self.counts, now)
            except RedisError as exc:
                log.error("sign-in counts unreachable in Redis, this worker's used: %s", exc)
                return step(self._memory, now)

    @staticmethod
    def _wait(counts: Counts, name: str | None, address: str, now: float) -> Lock | None:
        recent = counts.address_failures(address, now)
        locks = []
        if len(recent) >= ADDRESS_FAILURES:
            locks.append(Lock(recent[0] + ADDRESS_WINDOW_S - now, "address"))
        pair = counts.pair((name, address), now) if name is not None else None
        if pair is not None and pair.until > now:
            locks.append(Lock(pair.until - now, "name"))
        return max(locks, key=lambda lock: lock.seconds) if locks else None

    def locked(self, address: str, name: str | None = None) -> Lock | None:
        """The lock on signing in as ``name`` (None: any name, a wall token) from
        ``address`` now; None when a try is allowed."""
        return self._run(lambda counts, now: self._wait(counts, name, address, now))

    def fail(self, address: str, name: str | None = None) -> Lock | None:
        """Count one failure; the lock it puts in force (None: none yet)."""

        def step(counts: Counts, now: float) -> Lock | None:
            counts.address_failures(address, now, add=True)
            if name is not None:
                pair = counts.pair((name, address), now) or _Pair(0, now, 0.0)
                pair.failures += 1
                pair.last = now
                pair.until = now + pair_delay_s(pair.failures)
                counts.put_pair((name, address), pair)
            return self._wait(counts, name, address, now)

        return self._run(step)

    def succeed(self, address: str, name: str) -> None:
        """Forget the failures of (``name``, ``address``) after a good sign-in."""
        self._run(lambda counts, _now: counts.drop_pair((name, address)))
