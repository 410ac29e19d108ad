"""The style the map's browser code picks from what the server sends (tests' helper)."""

from __future__ import annotations

from typing import Any

from dashboard.cache import LayerCache
from dashboard.datasource import View
from dashboard.pages.map import key_token, update_styles


def update_style(
    source: View, cache: LayerCache, *, key: dict, scheme: str, selected: str, lang: str
) -> tuple[dict, Any, str]:
    """What the browser's ``pnm.pickStyle`` makes of the styles the server sends: the
    hideout (with the selection), the legend and the summary of ``scheme``."""
    styles = update_styles(source, cache, key=key, lang=lang)
    chosen = styles["schemes"].get(scheme) or next(iter(styles["schemes"].values()))
    assert chosen["hideout"]["key"] == styles["key"] == key_token(key)
    return {**chosen["hideout"], "selected": selected}, chosen["legend"], styles["summary"]
