"""The map page's drawer and folds (dashboard.components.folds), without a browser.

The app is built with ``suppress_callback_exceptions``, so a callback naming an id the
page lacks fails silently in the browser: check every id here, and that the clientside
functions the callbacks name exist in ``assets/layout.js``. The browser tests
(``tests/browser/test_map_screens.py``) show what the folds do at each screen size.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from dash import Dash

from dashboard import ids
from dashboard.app import render_page
from dashboard.components import folds
from dashboard.datasource import View
from dashboard.i18n import t
from dashboard.settings import Settings
from tests.dashboard.fixtures import components_by_id

LAYOUT_JS = Path(__file__).resolve().parents[2] / "assets" / "layout.js"
CJK = re.compile(r"[\u3400-\u9fff]")


def _fold_callbacks() -> list[dict[str, Any]]:
    app = Dash(__name__)
    folds.register_fold_callbacks(app)
    return list(app._callback_list)


def test_every_id_of_the_fold_callbacks_is_on_the_map_page(
    source: View, settings: Settings
) -> None:
    page, _ = render_page(source, settings, "/", "?layer=gaps")
    shown = components_by_id(page)
    callbacks = _fold_callbacks()
    assert len(callbacks) == 3
    named = set()
    for callback in callbacks:
        named.add(callback["output"].rsplit(".", 1)[0])
        for dep in [*callback["inputs"], *callback["state"]]:
            if not dep["id"].startswith("{"):  # the gap entries come with the list
                named.add(dep["id"])
    assert named - set(shown) == set()
    # Every choice that closes the drawer is a control of its sidebar.
    sidebar = components_by_id(shown[ids.SIDEBAR])
    assert {target for target, _ in folds.CLOSING_CHOICES} <= set(sidebar)
    assert ids.DRAWER_CLOSE in sidebar


def test_folds_start_in_their_default_state(source: View, settings: Settings) -> None:
    page, _ = render_page(source, settings, "/", "?layer=gaps")
    shown = components_by_id(page)
    assert shown[ids.MAP_BODY].className == folds.BODY  # the drawer closed
    assert "pnm-fold-small" in shown[ids.GAP_LIST_BODY].className  # folded on small screens
    assert shown[ids.PANEL_BODY].className == folds.FOLDABLE  # open when a cell is chosen


def test_the_clientside_functions_exist() -> None:
    script = LAYOUT_JS.read_text(encoding="utf-8")
    for callback in _fold_callbacks():
        function = callback["clientside_function"]
        assert function["namespace"] == "pnm_layout"
        assert re.search(rf"\b{function['function_name']}: {function['function_name']}\b", script)
    assert "window.dash_clientside.pnm_layout = window.pnm.layout" in script
    # The ids the script compares with are the ids of the page.
    assert json.dumps(ids.DRAWER_OPEN) in script
    assert ids.GAP_LIST_FOLD.endswith("-fold") and ids.PANEL_FOLD.endswith("-fold")


def test_the_new_labels_are_chinese_first() -> None:
    for key in ("drawer_open", "drawer_open_title", "drawer_close", "panel_fold", "gap_list_fold"):
        assert CJK.search(t(key, "zh")) and not CJK.search(t(key, "en")), key
