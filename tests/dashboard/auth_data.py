"""A data directory and an app with accounts, for the sign-in, role and scope tests.

The tiny data set (tests/dashboard/tiny_data.py: precinct P1 西城 is the west half, P2
东城 the east half; cells A, B in P1 hold 3 thefts and 4 frauds in the last 30 days, cell C
in P2 holds 7 disputes) plus two communities and two response units, one of each per
precinct. The east community's name is an HTML/JS payload, so every test that must not
leak the east also checks that the payload never appears.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h3
import pandas as pd

from dashboard.auth.users import make_user, write_users
from geodata.store import write_table
from tests.dashboard.tiny_data import C, build_tiny_data

SECRET = "test-secret-" + "x" * 40
XSS_NAME = '<img src=x onerror="window.__xss=1">'
EAST_NAMES = ("东城派出所", "三网格", "四网格", "东城秘密小区", XSS_NAME, "东城应急单元")
WEST_NAMES = ("西城派出所", "一网格", "二网格", "西城家园", "西城应急单元")
PASSWORDS = {
    "boss": "commander-password",
    "west": "west-chief-password",
    "east": "east-chief-password",
    "plan": "planner-password-1",
    "planw": "planner-password-2",
}
WALL_TOKEN = "kiosk-token-" + "k" * 40


def east_cells() -> set[str]:
    """Cell C (in P2) at every resolution the map draws, as H3 strings."""
    c = h3.int_to_str(C)
    return {h3.cell_to_parent(c, r) for r in range(7, 11)} | {c}


def build_secure_data(out: Path) -> Path:
    """The tiny data set with communities and response units, and a users file."""
    build_tiny_data(out)
    communities = pd.DataFrame(
        {
            "community_id": ["W1", "E1", "E2"],
            "name": ["西城家园", "东城秘密小区", XSS_NAME],
            "kind": ["compound", "compound", "village"],
            "lng": [107.7005, 107.7605, 107.7610],
            "lat": [31.3305, 31.3805, 31.3810],
            "grid_id": ["G1", "G4", "G4"],
            "status": ["certified", "certified", "in_progress"],
            "households": [120, 80, 40],
        }
    )
    write_table(out, "communities", communities)
    units = pd.DataFrame(
        {
            "unit_id": ["U1", "U2"],
            "name": ["西城应急单元", "东城应急单元"],
            "kind": ["police_station", "police_station"],
            "lng": [107.70, 107.76],
            "lat": [31.33, 31.38],
            "staff": [5, 5],
        }
    )
    write_table(out, "response_units", units)
    from dashboard.auth.users import hash_token

    users = [
        make_user("boss", "commander", password=PASSWORDS["boss"]),
        make_user("west", "chief", precincts=["P1"], password=PASSWORDS["west"]),
        make_user("east", "chief", precincts=["P2"], password=PASSWORDS["east"]),
        make_user("plan", "planner", password=PASSWORDS["plan"]),
        make_user("planw", "planner", precincts=["P1"], password=PASSWORDS["planw"]),
        make_user("lobby", "wall", token=WALL_TOKEN),
    ]
    assert users[-1].token == hash_token(WALL_TOKEN)
    write_users(out / "users.toml", users)
    return out


def client_from(app: Any, address: str) -> Any:
    """A test client whose requests come from ``address``."""
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def sign_in(
    client: Any, name: str, password: str | None = None, headers: dict[str, str] | None = None
) -> Any:
    """Sign ``client`` in through the form (the POST with ``headers``); return the POST's
    response."""
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf, page[:500]
    return client.post(
        "/login",
        data={
            "name": name,
            "password": PASSWORDS[name] if password is None else password,
            "csrf": csrf.group(1),
            "next": "/",
        },
        headers=headers or {},
    )


@dataclass(frozen=True)
class Payload:
    """A crafted ``/_dash-update-component`` body."""

    output: str
    body: dict[str, Any]


def callback_body(
    app: Any,
    output: str,
    values: dict[tuple[str, str], Any] | None = None,
    *,
    patterns: dict[str, list[tuple[dict[str, Any], Any]]] | None = None,
    changed: list[str] | None = None,
) -> dict[str, Any]:
    """The body the Dash renderer would post for the callback ``output``.

    ``values`` gives the value of each (id, property) (default None); ``patterns`` gives,
    for a pattern-matching input by its ``type``, the (component id, value) pairs;
    ``changed`` the changed property ids (default: the first input).
    """
    import json

    spec = app.callback_map[output]
    values = values or {}
    patterns = patterns or {}

    def items(declared: list[dict[str, str]]) -> list[Any]:
        out: list[Any] = []
        for d in declared:
            cid, prop = d["id"], d["property"]
            if cid.startswith("{"):
                kind = json.loads(cid)["type"]
                out.append(
                    [{"id": i, "property": prop, "value": v} for i, v in patterns.get(kind, [])]
                )
            else:
                out.append({"id": cid, "property": prop, "value": values.get((cid, prop))})
        return out

    inputs = items(spec["inputs"])
    first = spec["inputs"][0]
    default_changed = (
        [f"{first['id']}.{first['property']}"] if not first["id"].startswith("{") else []
    )
    outputs: list[Any] = []
    for part in output.strip(".").split("..."):
        cid, _, prop = part.partition("@")[0].rpartition(".")
        outputs.append({"id": cid, "property": prop})
    return {
        "output": output,
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": inputs,
        "state": items(spec["state"]),
        "changedPropIds": default_changed if changed is None else changed,
    }


def post_callback(client: Any, body: dict[str, Any]) -> Any:
    """POST a callback body the way the renderer does."""
    return client.post("/_dash-update-component", json=body)
