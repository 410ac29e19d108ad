"""What a callback request may carry: its shape, and the values that name data.

Dash's renderer posts a callback as JSON (``output``, ``outputs``, ``inputs``, ``state``,
``changedPropIds``) and Dash hands the values to the callback by position, trusting the
ids beside them. A crafted request can say anything, so before a callback runs:

1. the callback must exist and have a server function;
2. the ids and properties of its inputs and state must be exactly the ones it declared
   (a value cannot be smuggled in under another component's name), and every changed
   property must be one of its inputs;
3. every value that names data must lie in the user's scope: a page path the role may
   open, a known layer the role may see at a resolution it may ask for, the user's own
   scope in a layer key, a cell that touches the scope, a precinct, grid or community of
   the scope.

A failed check raises :class:`Refusal`; the guard answers HTTP 403 and audits it.
:data:`DOWNLOAD_CHECKS` checks a download link's query the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from dashboard import ids
from dashboard.auth.roles import (
    MODULE_FEATURES,
    feature_allowed,
    layer_allowed,
    page_allowed,
    res_allowed,
)
from dashboard.auth.users import User

WILDCARDS = (["ALL"], ["MATCH"], ["ALLSMALLER"])


class Refusal(Exception):
    """A request the user may not make; ``reason`` says why (for the audit log)."""

    def __init__(self, reason: str, status: int = 403) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Asker:
    """Who asks, and the data they may see.

    Attributes
    ----------
    user : User
    source : DataSource or ScopedSource
        The data cut to the user's scope (answers ``contains_cell``, ``has_place``,
        ``scope_key``).
    layers : frozenset of str
        The layer ids the map knows.
    """

    user: User
    source: Any
    layers: frozenset[str]


# --------------------------------------------------------------------------- values


def check_path(value: Any, who: Asker) -> None:
    path = value if isinstance(value, str) and value else "/"
    if not page_allowed(who.user.role, path):
        raise Refusal(f"page {path[:80]!r} not allowed for a {who.user.role}")


def check_layer(value: Any, who: Asker) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not layer_allowed(who.user.role, value, who.layers):
        raise Refusal(f"layer {str(value)[:40]!r} not allowed")


def check_res(value: Any, who: Asker) -> None:
    if value in (None, "auto"):
        return
    try:
        res = int(value)
    except (TypeError, ValueError):
        raise Refusal(f"resolution {str(value)[:20]!r} not allowed") from None
    if not res_allowed(who.user.role, res):
        raise Refusal(f"resolution {res} not allowed for a {who.user.role}")


def check_layer_key(value: Any, who: Asker) -> None:
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise Refusal("layer key is not an object")
    check_layer(value.get("layer"), who)
    check_res(value.get("res"), who)
    if value.get("scope") != who.source.scope_key:
        raise Refusal(f"layer key for scope {str(value.get('scope'))[:80]!r}")


def check_cell(value: Any, who: Asker) -> None:
    if value in (None, ""):
        return
    if not isinstance(value, str) or not who.source.contains_cell(value):
        raise Refusal(f"cell {str(value)[:20]!r} outside the scope")


def check_place(value: Any, who: Asker) -> None:
    """A place named ``kind:id`` (a search result, a drill-down crumb) or ``county``."""
    if value in (None, "", "county"):
        return
    kind, _, place_id = str(value).partition(":")
    if not place_id or not who.source.has_place(kind, place_id):
        raise Refusal(f"place {str(value)[:80]!r} outside the scope")


def _ids(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        return [v for v in value.split(",") if v]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    raise Refusal(f"ids of an unexpected type {type(value).__name__}")


def check_precinct_ids(value: Any, who: Asker) -> None:
    """Precinct ids (a list, or comma-separated as in a download link) of the scope."""
    for pid in _ids(value):
        if not who.source.has_place("precinct", pid):
            raise Refusal(f"precinct {pid[:40]!r} outside the scope")


def check_grid_ids(value: Any, who: Asker) -> None:
    """Grid ids (a list, or comma-separated) of the scope."""
    for gid in _ids(value):
        if not who.source.has_place("grid", gid):
            raise Refusal(f"grid {gid[:40]!r} outside the scope")


def check_crumb_id(component: Mapping[str, Any], who: Asker) -> None:
    check_place(component.get("index"), who)


def check_gap_entry_id(component: Mapping[str, Any], who: Asker) -> None:
    check_cell(component.get("index"), who)


VALUE_CHECKS: dict[tuple[str, str], Callable[[Any, Asker], None]] = {
    (ids.URL, "pathname"): check_path,
    (ids.LAYER, "value"): check_layer,
    (ids.RESOLUTION, "value"): check_res,
    (ids.LAYER_KEY, "data"): check_layer_key,
    (ids.SELECTED, "data"): check_cell,
    (ids.SEARCH, "value"): check_place,
    (ids.EXPORT_PRECINCTS, "value"): check_precinct_ids,
    (ids.EXPORT_GRIDS, "value"): check_grid_ids,
}
"""Checks of a value, by the (component id, property) the callback declared for it."""

PATTERN_CHECKS: dict[str, Callable[[Mapping[str, Any], Asker], None]] = {
    ids.CRUMB: check_crumb_id,
    ids.GAP_ENTRY: check_gap_entry_id,
}
"""Checks of the component ids of a pattern-matching input, by the pattern's ``type``."""


# --------------------------------------------------------------------------- shape


def feature_of(callback: Mapping[str, Any]) -> str | None:
    """The feature (page) a registered callback belongs to, from its function's module."""
    func = callback.get("callback")
    module = getattr(func, "__module__", None)
    return MODULE_FEATURES.get(module) if isinstance(module, str) else None


def _declared(spec: Mapping[str, Any]) -> tuple[str | dict[str, Any], str]:
    raw = spec["id"]
    return (json.loads(raw) if raw.startswith("{") else raw), spec["property"]


def _matches(pattern: dict[str, Any], component: Any) -> bool:
    if not isinstance(component, dict) or set(component) != set(pattern):
        return False
    return all(v in WILDCARDS or component[k] == v for k, v in pattern.items())


def _items(
    declared: list[Mapping[str, Any]], posted: Any, where: str
) -> Iterator[tuple[str | dict[str, Any], str, Any, Any]]:
    """(declared id, property, posted component id, value) for every posted item, after
    checking that the items are exactly the declared ones."""
    if not isinstance(posted, list) or len(posted) != len(declared):
        raise Refusal(f"{where}: {len(declared)} expected")
    for spec, item in zip(declared, posted, strict=True):
        cid, prop = _declared(spec)
        group = item if isinstance(item, list) and isinstance(cid, dict) else [item]
        for one in group:
            if not isinstance(one, Mapping) or one.get("property") != prop:
                raise Refusal(f"{where}: not the declared property {prop}")
            posted_id = one.get("id")
            if isinstance(cid, dict):
                if not _matches(cid, posted_id):
                    raise Refusal(f"{where}: id does not match the pattern {cid}")
            elif posted_id != cid:
                raise Refusal(f"{where}: not the declared id {cid}")
            yield cid, prop, posted_id, one.get("value")


def _prop_id(component: Any, prop: str) -> str:
    if isinstance(component, dict):
        text = json.dumps(component, sort_keys=True, separators=(",", ":"))
        return f"{text}.{prop}"
    return f"{component}.{prop}"


def inspect_callback(body: Any, callback_map: Mapping[str, Mapping[str, Any]], who: Asker) -> str:
    """Check a callback request against ``who``; return the callback's feature.

    Raises
    ------
    Refusal
        For an unknown callback, a malformed body, a feature the role may not use, or a
        value outside the user's scope.
    """
    if not isinstance(body, Mapping) or not isinstance(body.get("output"), str):
        raise Refusal("not a callback request", status=400)
    callback = callback_map.get(body["output"])
    if callback is None or "callback" not in callback:
        raise Refusal(f"no server callback for {body['output'][:120]!r}", status=400)
    feature = feature_of(callback)
    if not feature_allowed(who.user.role, feature):
        raise Refusal(f"callback {body['output'][:120]!r} ({feature}) not allowed")
    seen: set[str] = set()
    for where, declared in (("inputs", callback["inputs"]), ("state", callback["state"])):
        for cid, prop, posted_id, value in _items(declared, body.get(where, []), where):
            if where == "inputs":
                seen.add(_prop_id(posted_id, prop))
            if isinstance(cid, dict):
                check = PATTERN_CHECKS.get(str(cid.get("type")))
                if check is not None:
                    check(posted_id, who)
            else:
                value_check = VALUE_CHECKS.get((cid, prop))
                if value_check is not None:
                    value_check(value, who)
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list):
        raise Refusal("changedPropIds is not a list", status=400)
    for prop_id in changed:
        if _normalise(prop_id) not in seen:
            raise Refusal(f"changed property {str(prop_id)[:120]!r} is not an input")
    return str(feature)


def _normalise(prop_id: Any) -> str:
    """A changed-property id in the form :func:`_prop_id` writes (ids of pattern-matching
    components are JSON, written by the renderer with sorted keys)."""
    if not isinstance(prop_id, str) or "." not in prop_id:
        return ""
    head, _, prop = prop_id.rpartition(".")
    if head.startswith("{"):
        try:
            return _prop_id(json.loads(head), prop)
        except json.JSONDecodeError:
            return ""
    return prop_id


DOWNLOAD_CHECKS: dict[str, Callable[[Any, Asker], None]] = {
    "precincts": check_precinct_ids,
    "grids": check_grid_ids,
}
"""Checks of a download link's query parameters (``/export/download?precincts=...``)."""


def inspect_download(args: Mapping[str, str], who: Asker) -> None:
    """Check a download's query against ``who`` (the export view checks it again)."""
    for name, check in DOWNLOAD_CHECKS.items():
        if name in args:
            check(args[name], who)
