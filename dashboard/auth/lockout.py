"""Failed sign-ins slowed down without letting anybody lock another person out.

Two counts, kept in each worker's memory:

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

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

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


class Throttle:
    """The two counts of the module docstring.

    Parameters
    ----------
    clock : callable
        Seconds (a test passes its own); the wall clock, so a lock's end can be shown.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._pairs: dict[tuple[str, str], _Pair] = {}
        self._addresses: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _address_recent(self, address: str, now: float) -> deque[float]:
        found = self._addresses.setdefault(address, deque())
        while found and found[0] <= now - ADDRESS_WINDOW_S:
            found.popleft()
        return found

    def _pair(self, key: tuple[str, str], now: float) -> _Pair | None:
        pair = self._pairs.get(key)
        if pair is not None and now - pair.last >= PAIR_MEMORY_S:
            del self._pairs[key]
            return None
        return pair

    def _wait(self, name: str | None, address: str, now: float) -> Lock | None:
        recent = self._address_recent(address, now)
        locks = []
        if len(recent) >= ADDRESS_FAILURES:
            locks.append(Lock(recent[0] + ADDRESS_WINDOW_S - now, "address"))
        pair = self._pair((name, address), now) if name is not None else None
        if pair is not None and pair.until > now:
            locks.append(Lock(pair.until - now, "name"))
        return max(locks, key=lambda lock: lock.seconds) if locks else None

    def locked(self, address: str, name: str | None = None) -> Lock | None:
        """The lock on signing in as ``name`` (None: any name, a wall token) from
        ``address`` now; None when a try is allowed."""
        with self._lock:
            return self._wait(name, address, self.clock())

    def fail(self, address: str, name: str | None = None) -> Lock | None:
        """Count one failure; the lock it puts in force (None: none yet)."""
        with self._lock:
            now = self.clock()
            self._address_recent(address, now).append(now)
            if name is not None:
                pair = self._pair((name, address), now) or _Pair(0, now, 0.0)
                pair.failures += 1
                pair.last = now
                pair.until = now + pair_delay_s(pair.failures)
                self._pairs[(name, address)] = pair
            if len(self._pairs) + len(self._addresses) > MAX_KEYS:
                self._sweep(now)
            return self._wait(name, address, now)

    def succeed(self, address: str, name: str) -> None:
        """Forget the failures of (``name``, ``address``) after a good sign-in."""
        with self._lock:
            self._pairs.pop((name, address), None)

    def _sweep(self, now: float) -> None:
        self._pairs = {k: p for k, p in self._pairs.items() if now - p.last < PAIR_MEMORY_S}
        self._addresses = {
            a: d for a, d in self._addresses.items() if d and d[-1] > now - ADDRESS_WINDOW_S
        }
