"""The audit log: who did what, when, with which parameters — one JSON line per event.

Police data is sensitive, so every export is logged (and, with roles, sign-ins and
refusals). The log is ``<data_dir>/audit/audit.log``: each event is one line of JSON,
appended with a single ``write`` on a file opened with ``O_APPEND`` and flushed to disk
with ``fsync`` before :func:`record` returns. Writers take an exclusive ``flock`` on the
file for each event, so lines from processes writing at the same time never interleave.

Every line parses, even after a full disk or a crash. A write the disk had room for only
in part (``ENOSPC``) is cut back off at once, and :class:`AuditError` is raised. A torn
last line left by a crash is found by the next write (the file does not end in a newline)
and replaced by an ``audit_repaired`` event that keeps its text (``torn_text``); this is
the only change ever made to what is in the file: a whole line once written stays as it
was.

Fields of every line: ``time`` (ISO 8601 with the UTC+8 offset of the bureau's clock),
``user``, ``action`` (e.g. "export", later "sign_in", "refused"), ``host``, ``pid``, then
the event's own parameters.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

AUDIT_DIR: Final = "audit"
AUDIT_FILE: Final = "audit.log"
CHINA_TZ: Final = dt.timezone(dt.timedelta(hours=8), "CST")
_RESERVED: Final = frozenset({"time", "user", "action", "host", "pid"})


class AuditError(OSError):
    """The audit log could not be written: the action it records must not go ahead."""


def audit_path(data_dir: Path | str) -> Path:
    """The audit log of a data directory."""
    return Path(data_dir) / AUDIT_DIR / AUDIT_FILE


def _plain(value: Any) -> Any:
    """JSON-able form of a parameter (paths and times as text, sets sorted)."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(_plain(v) for v in value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):  # pandas.Timestamp
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def record(
    data_dir: Path | str, *, user: str, action: str, when: dt.datetime | None = None, **params: Any
) -> dict[str, Any]:
    """Append one event to the audit log and wait until it is on disk.

    Parameters
    ----------
    data_dir : Path or str
        The data directory; the log is ``audit/audit.log`` inside it (created if needed).
    user : str
        Who acted (a user name; never a password or token).
    action : str
        What was done: "export", "sign_in", "refused", ...
    when : datetime, optional
        When; default now. A naive time is taken as China Standard Time.
    **params
        The event's parameters (JSON-able, or paths, times, numpy scalars). Must not use
        the names ``time``, ``user``, ``action``, ``host`` or ``pid``.

    Returns
    -------
    dict
        The event as written.

    Raises
    ------
    AuditError
        If the log cannot be written; the caller must then not go ahead (an unlogged
        export is not allowed).
    ValueError
        For an empty user or action, or a parameter with a reserved name.
    """
    if not str(user).strip() or not str(action).strip():
        raise ValueError("an audit event needs a user and an action")
    clash = sorted(_RESERVED & set(params))
    if clash:
        raise ValueError(f"audit parameters may not be called {clash}")
    moment = when or dt.datetime.now(CHINA_TZ)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA_TZ)
    event: dict[str, Any] = {
        "time": moment.astimezone(CHINA_TZ).isoformat(timespec="milliseconds"),
        "user": str(user),
        "action": str(action),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        **{k: _plain(v) for k, v in params.items()},
    }
    line = _line(event)
    path = audit_path(data_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released by the close
            repair = _torn_tail(fd, event)
            _append(fd, repair + line)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise AuditError(f"cannot write the audit log {path}: {exc.strerror or exc}") from None
    return event


def _line(event: dict[str, Any]) -> bytes:
    return (json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


TORN_READ_LIMIT: Final = 1024**2
"""Bytes read back from the end to find where a torn last line starts."""


def _torn_tail(fd: int, event: dict[str, Any]) -> bytes:
    """Cut a torn last line off the file (under the caller's lock); the ``audit_repaired``
    line that replaces it (b"" when the file ends in a newline)."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return b""
    start = max(0, size - TORN_READ_LIMIT)
    tail = os.pread(fd, size - start, start)
    cut = start + tail.rfind(b"\n") + 1 if b"\n" in tail else start
    torn = os.pread(fd, size - cut, cut)
    os.ftruncate(fd, cut)
    repaired = {
        "time": event["time"], "user": "audit", "action": "audit_repaired",
        "host": event["host"], "pid": event["pid"], "torn_bytes": len(torn),
        "torn_text": torn.decode("utf-8", errors="replace"),
    }  # fmt: skip
    return _line(repaired)


def _append(fd: int, data: bytes) -> None:
    """One ``write`` of ``data``; a part written where the disk had room for only a
    part is cut back off, so that the file still ends in a whole line."""
    size = os.fstat(fd).st_size
    try:
        written = os.write(fd, data)
    except OSError:
        os.ftruncate(fd, size)
        raise
    if written != len(data):
        os.ftruncate(fd, size)
        raise OSError(errno.ENOSPC, f"short write ({written} of {len(data)} bytes)")


def read_events(data_dir: Path | str) -> Iterator[dict[str, Any]]:
    """The events of the audit log, oldest first (none when there is no log yet)."""
    path = audit_path(data_dir)
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)
