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
LAYER_KEY = "layer-key"  # the parameters of the layer on the map (a dcc.Store)
AREA_BOUNDS = "area-bounds"  # [[south, west], [north, east]] of the area shown (a dcc.Store)
STYLES = "layer-styles"  # the layer's hideout and legend for every scheme (a dcc.Store)
SELECTION_LAYER = "selection-layer"
SELECTED = "selected-cell"  # the selected H3 cell id (a dcc.Store)
AREA_OUTLINE = "area-outline"
PRECINCT_OUTLINE = "precinct-outline"
GRID_OUTLINE = "grid-outline"
LABEL_LAYER = "label-layer"  # precinct, township and grid names (dashboard.views.labels)
PLACE_LAYER = "place-outline"  # the searched place's outline

LAYER = "layer-choice"
WINDOW = "window-preset"
DATES = "window-dates"
WINDOW_TEXT = "window-text"
CATEGORY_FILTER = "category-filter"
KIND_FILTER = "kind-filter"
BAND = "band-filter"
FDR = "fdr-toggle"
RESOLUTION = "resolution"
RES_TEXT = "resolution-text"
SCHEME = "scheme"
PLAY_STEP = "play-step"
PLAY_SLIDER = "play-slider"
PLAY_BUTTON = "play-button"
PLAY_TIMER = "play-timer"
SEARCH = "place-search"

LEGEND = "legend"
SUMMARY = "heat-summary"
PANEL = "side-panel"
PANEL_CLOSE = "side-panel-close"
PANEL_BODY = "side-panel-body"
TREND = "cell-trend"
CRUMB = "pnm-crumb"  # pattern-matching id type: {"type": CRUMB, "index": "precinct:<id>"}

LANG = "page-lang"
LANG_SWITCH = "lang-switch"
LANG_ZH = "lang-zh"
LANG_EN = "lang-en"
BANNER = "synthetic-banner"

# Leaflet panes (their z-order is set in assets/pnm.css)
PANE_LAND = "pnm-land"
PANE_HEXES = "pnm-hexes"
PANE_OUTLINES = "pnm-outlines"
PANE_SELECTION = "pnm-selection"
PANE_LABELS = "pnm-labels"

# Wall screen (/wall)
WALL_ROOT = "wall-root"
WALL_CONFIG = "wall-config"  # views, periods, stale limit, language, app version (a dcc.Store)
WALL_STATUS = "wall-status"  # the last refresh: tick, data version, age, texts (a dcc.Store)
WALL_VIEWS = "wall-views"  # every view's cells, style and title (a dcc.Store)
WALL_ROTATE = "wall-rotate"  # dcc.Interval: the next view
WALL_REFRESH = "wall-refresh"  # dcc.Interval: fresh data
WALL_MAP = "wall-map"
WALL_HEXES = "wall-hexes"
WALL_LABELS = "wall-labels"
WALL_TITLE = "wall-title"
WALL_WINDOW = "wall-window"
WALL_STEP = "wall-step"
WALL_LEGENDS = "wall-legends"
WALL_FIGURES = "wall-figures"
WALL_GAPS = "wall-gaps"
WALL_BANNER = "wall-banner"
WALL_FOOTER = "wall-footer"

# Export page (dashboard.pages.export); EXPORT_LINK is the map page's "export this view"
EXPORT_LINK = "export-link"
EXPORT_LANG = "export-lang"
EXPORT_VIEW = "export-view"  # the map view's bounds the page was opened with (a dcc.Store)
EXPORT_LAYERS = "export-layers"
EXPORT_RES = "export-res"
EXPORT_RES_NOTE = "export-res-note"
EXPORT_AREA = "export-area"
EXPORT_PRECINCTS = "export-precincts"
EXPORT_PRECINCTS_BOX = "export-precincts-box"
EXPORT_GRIDS = "export-grids"
EXPORT_GRIDS_BOX = "export-grids-box"
EXPORT_WINDOW = "export-window"
EXPORT_DATES = "export-dates"
EXPORT_WINDOW_TEXT = "export-window-text"
EXPORT_CATS = "export-cats"
EXPORT_SCHEME = "export-scheme"
EXPORT_BAND = "export-band"
EXPORT_KINDS = "export-kinds"
EXPORT_FDR = "export-fdr"
EXPORT_CRS = "export-crs"
EXPORT_FORMAT = "export-format"
EXPORT_SUMMARY = "export-summary"
EXPORT_DOWNLOAD = "export-download"

# Map layers: the ranked gap list beside the map (dashboard.components.gap_list)
GAP_LIST = "gap-list"
GAP_LIST_BODY = "gap-list-body"
GAP_ENTRY = "gap-entry"  # pattern-matching id type: {"type": GAP_ENTRY, "index": <H3 id>}

# Map page on every screen size (dashboard.components.folds)
MAP_BODY = "map-body"  # sidebar + map; its class says whether the drawer is open
SIDEBAR = "map-sidebar"
DRAWER_OPEN = "drawer-open"  # the button over the map that opens the sidebar as a drawer
DRAWER_CLOSE = "drawer-close"
DRAWER_BACKDROP = "drawer-backdrop"  # the dimmed map beside the open drawer: a tap closes
GAP_LIST_FOLD = "gap-list-fold"
PANEL_FOLD = "side-panel-fold"
