/*
 * window.pnm.wall: the command-centre wall screen's browser-side functions.
 *
 * - rotate(n, views, config): clientside callback of the rotation timer (and of new
 *   data): shows view n mod len(config.views) — the root's class (which legend shows),
 *   the title, the window, "2 / 4", the hexagons (built from H3 ids by
 *   window.pnm.buildHexes, hot-spot flags included) and their hideout. Refits the map to
 *   config.bounds when the window changed size. No server round trip.
 * - health(n, status, config): clientside callback of the refresh timer (and of each
 *   answer): the stale-data banner. A refresh whose answer never came (the tick moved on
 *   twice since the last answer) means the server is away: the last picture stays, the
 *   banner says since when, and the next tick tries again. An answer from a server whose
 *   app version differs from the page's reloads the page.
 * The hexagons are drawn by window.pnm.hexLayer: a halo in the fill's colour when the
 * hideout asks for one (sparse views), a bright outline for hexagons flagged hot spots.
 *
 * State is a handful of numbers replaced in place: nothing grows while the wall runs.
 */
(function () {
  "use strict";

  var EMPTY = { type: "FeatureCollection", features: [] };
  var fitted = { width: null, height: null };
  // The last answer the health check saw (for tests and for a look in the console).
  var seen = { seq: null, app: null, failed: false };
  // Height of the tallest legend (seven rows) in wall.css units (--u), kept free of the
  // area when the map is fitted, so the legend never hides a hexagon.
  var LEGEND_ROOM = 31;

  function noUpdate() {
    return window.dash_clientside.no_update;
  }

  function triggeredBy(name) {
    var ctx = window.dash_clientside.callback_context;
    var fired = (ctx && ctx.triggered) || [];
    for (var i = 0; i < fired.length; i++) {
      if (fired[i].prop_id && fired[i].prop_id.indexOf(name) === 0) {
        return true;
      }
    }
    return false;
  }

  function buildHexes(view) {
    var data = view && view.data;
    if (!data || !window.pnm.buildHexes) {
      return EMPTY;
    }
    return window.pnm.buildHexes(data);
  }

  function refit(config) {
    // [viewport, invalidateSize] on the first call and whenever the window changed size:
    // a new invalidateSize value makes dash-leaflet re-measure the map, then the viewport
    // fits the area above the legend (LEGEND_ROOM screen units are kept free below it).
    var width = window.innerWidth;
    var height = window.innerHeight;
    if (width === fitted.width && height === fitted.height) {
      return [noUpdate(), noUpdate()];
    }
    fitted.width = width;
    fitted.height = height;
    var unit = Math.min(height / 100, (width * 0.5625) / 100); // --u in wall.css
    return [
      {
        bounds: config.bounds,
        transition: "fitBounds",
        options: { animate: false, paddingTopLeft: [unit, unit], paddingBottomRight: [unit, LEGEND_ROOM * unit] },
      },
      Date.now(),
    ];
  }

  function rotate(n, views, config) {
    var list = (config && config.views) || [];
    var outputs = 8;
    if (!list.length) {
      return new Array(outputs).fill(noUpdate());
    }
    var i = (n || 0) % list.length;
    var id = list[i];
    var view = views && views[id];
    var newData = triggeredBy(config.ids.views);
    if (!newData && list.length === 1 && n > 0) {
      // One view only: nothing to rotate; keep the picture (refit if resized).
      var fit = refit(config);
      var same = new Array(outputs).fill(noUpdate());
      same[6] = fit[0];
      same[7] = fit[1];
      return same;
    }
    return [
      "pnm-wall pnm-wall-view-" + id,
      view ? view.title : config.titles[id] || "",
      view ? view.window : config.windows[id] || "",
      list.length > 1 ? i + 1 + " / " + list.length : "",
      view ? buildHexes(view) : EMPTY,
      view ? view.hideout : noUpdate(),
    ].concat(refit(config));
  }

  function health(n, status, config) {
    if (!status || !config) {
      return [noUpdate(), noUpdate()];
    }
    seen.seq = status.seq;
    seen.app = status.app || null;
    if (status.app && config.app && status.app !== config.app) {
      // The server was restarted with other code: load the page it serves now.
      window.location.reload();
      return [noUpdate(), noUpdate()];
    }
    var failed = (n || 0) - (status.seq || 0) >= 2;
    seen.failed = failed;
    if (failed) {
      return [
        config.offline.replace("{time}", status.time || "--:--"),
        "pnm-wall-banner pnm-wall-banner-offline",
      ];
    }
    if (status.stale) {
      return [status.stale_text || "", "pnm-wall-banner pnm-wall-banner-stale"];
    }
    return ["", "pnm-wall-banner pnm-wall-banner-off"];
  }

  window.pnm = window.pnm || {};
  window.pnm.wall = {
    rotate: rotate,
    health: health,
    buildHexes: buildHexes,
    seen: seen,
  };
  // Dash looks clientside callbacks up in window.dash_clientside[namespace].
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.pnm_wall = window.pnm.wall;
})();
