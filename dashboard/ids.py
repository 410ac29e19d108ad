"""Component ids of the dashboard, one constant each, shared by layouts, callbacks and tests."""

from __future__ import annotations

# App shell
URL = "url"
PAGE = "page"
DOCUMENT = "document"  # holds the page language; a clientside callback sets <html lang>

# Map page
MAP = "map"
HEX_LAYER = "hex-layer"
HEX_DATA = "hex-data"
AREA_OUTLINE = "area-outline"
PRECINCT_OUTLINE = "precinct-outline"
GRID_OUTLINE = "grid-outline"
CATEGORY_FILTER = "category-filter"
RESOLUTION = "resolution"
LEGEND = "legend"
SUMMARY = "heat-summary"
LANG = "page-lang"
LANG_SWITCH = "lang-switch"
LANG_ZH = "lang-zh"
LANG_EN = "lang-en"
BANNER = "synthetic-banner"

# Leaflet panes (their z-order is set in assets/pnm.css)
PANE_LAND = "pnm-land"
PANE_HEXES = "pnm-hexes"
PANE_OUTLINES = "pnm-outlines"
