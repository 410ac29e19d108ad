/*
 * window.pnm: the prevention-network map's browser-side functions, in one namespace.
 *
 * - buildHexes(payload): clientside callback; turns the compact hex payload the server
 *   sends ({res, cells: [H3 ids], v: [values], k: [classes]}) into a GeoJSON
 *   FeatureCollection, building each hexagon with h3-js (assets/vendor/h3-js.umd.js).
 * - hexStyle(feature, context): style function of the hex layer; colours come from the
 *   layer's hideout ({colours: [one per class]}), so a new classification restyles the
 *   drawn polygons without resending any cell.
 * - onEachHex(feature, layer): counts the hexagons Leaflet has created, and records when
 *   they are on screen (status.hexes.drawnAt, ms since navigation) for tests and timing.
 * - setDocument(doc): clientside callback; sets <html lang> and the page title.
 *
 * Referenced from Python as Namespace("pnm")("hexStyle") and
 * ClientsideFunction(namespace="pnm", function_name="buildHexes").
 */
(function () {
  "use strict";

  var status = {
    hexes: {
      expected: 0, // features in the last FeatureCollection built
      added: 0, // features Leaflet has created from it
      drawn: -1, // features on screen (set one frame after the last was added)
      generation: 0,
      buildMs: null, // time spent building polygons from cell ids
      builtAt: null, // performance.now() when the last collection was built
      drawnAt: null, // performance.now() when it was on screen
      bytes: null, // length of the JSON payload the polygons were built from
    },
  };

  function markDrawn() {
    var s = status.hexes;
    var generation = ++s.generation;
    // Leaflet's canvas renderer paints on the next animation frame; the second frame
    // guarantees that paint has happened.
    window.requestAnimationFrame(function () {
      window.requestAnimationFrame(function () {
        if (generation === s.generation) {
          s.drawn = s.added;
          s.drawnAt = window.performance.now();
        }
      });
    });
  }

  function buildHexes(payload) {
    var s = status.hexes;
    var cells = (payload && payload.cells) || [];
    var values = (payload && payload.v) || [];
    var classes = (payload && payload.k) || [];
    var t0 = window.performance.now();
    var features = new Array(cells.length);
    for (var i = 0; i < cells.length; i++) {
      features[i] = {
        type: "Feature",
        id: cells[i],
        geometry: {
          type: "Polygon",
          // true: GeoJSON order ([lng, lat]) and a closed ring.
          coordinates: [window.h3.cellToBoundary(cells[i], true)],
        },
        properties: { cell: cells[i], v: values[i], k: classes[i] },
      };
    }
    s.expected = cells.length;
    s.added = 0;
    s.drawn = -1;
    s.drawnAt = null;
    s.buildMs = window.performance.now() - t0;
    s.builtAt = window.performance.now();
    s.bytes = payload ? JSON.stringify(payload).length : 0;
    if (cells.length === 0) {
      markDrawn();
    }
    return { type: "FeatureCollection", features: features };
  }

  function onEachHex(feature, layer) {
    var s = status.hexes;
    s.added += 1;
    if (s.added === s.expected) {
      markDrawn();
    }
  }

  function hexStyle(feature, context) {
    var hideout = (context && context.hideout) || {};
    var colours = hideout.colours || [];
    var colour = colours[feature.properties.k] || "#9ca3af";
    return {
      fillColor: colour,
      fillOpacity: hideout.fillOpacity === undefined ? 0.78 : hideout.fillOpacity,
      // A thin dark edge keeps the palest class visible on the white land.
      color: hideout.stroke || "#7c2d12",
      weight: hideout.weight === undefined ? 0.6 : hideout.weight,
      opacity: 0.55,
    };
  }

  function setDocument(doc) {
    if (doc) {
      document.documentElement.lang = doc.lang === "en" ? "en" : "zh-CN";
      if (doc.title) {
        document.title = doc.title;
      }
    }
    return window.dash_clientside.no_update;
  }

  window.pnm = Object.assign({}, window.pnm, {
    status: status,
    buildHexes: buildHexes,
    onEachHex: onEachHex,
    hexStyle: hexStyle,
    setDocument: setDocument,
  });
  // Dash looks clientside callbacks up in window.dash_clientside[namespace].
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.pnm = window.pnm;
})();
