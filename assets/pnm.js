/*
 * window.pnm: the prevention-network map's browser-side functions, in one namespace.
 *
 * - buildHexes(payload): clientside callback; turns the compact hex payload the server
 *   sends ({layer, res, cells: [H3 ids], v: [values]}) into a GeoJSON FeatureCollection,
 *   building each hexagon with h3-js (assets/vendor/h3-js.umd.js).
 * - hexStyle(feature, context): style function of the hex layer. The class of a value
 *   comes from the layer's hideout: {breaks: [upper bounds], colours: [one per class],
 *   nodata, selected}; with breaks null the value is itself a category index. A new
 *   classification or highlight changes only the hideout: no cell is resent.
 * - classOf(value, breaks): the class index of a value (first break >= value).
 * - cellOutline(cell): clientside callback; the outline of the selected cell (built
 *   with h3-js from its id) as a FeatureCollection.
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
      res: null, // H3 resolution of the last payload
      layer: null, // layer id of the last payload
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
          s.drawn = s.expected;
          s.drawnAt = window.performance.now();
        }
      });
    });
  }

  function buildHexes(payload) {
    var s = status.hexes;
    var cells = (payload && payload.cells) || [];
    var values = (payload && payload.v) || [];
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
        properties: { cell: cells[i], v: values[i] },
      };
    }
    s.expected = cells.length;
    s.added = 0;
    s.drawn = -1;
    s.drawnAt = null;
    s.buildMs = window.performance.now() - t0;
    s.builtAt = window.performance.now();
    s.bytes = payload ? JSON.stringify(payload).length : 0;
    s.res = payload ? payload.res : null;
    s.layer = payload ? payload.layer : null;
    if (cells.length === 0) {
      markDrawn();
    }
    return { type: "FeatureCollection", features: features };
  }

  function onEachHex(feature, layer) {
    var s = status.hexes;
    s.added += 1;
    // dash-leaflet re-adds the features when the hideout changes: every full pass counts.
    if (s.expected > 0 && s.added % s.expected === 0) {
      markDrawn();
    }
  }

  function classOf(value, breaks) {
    if (!breaks) {
      return value;
    }
    for (var i = 0; i < breaks.length; i++) {
      if (value <= breaks[i]) {
        return i;
      }
    }
    return breaks.length - 1;
  }

  function hexStyle(feature, context) {
    var hideout = (context && context.hideout) || {};
    var colours = hideout.colours || [];
    var value = feature.properties.v;
    var colour =
      value === null || value === undefined
        ? hideout.nodata || "#d1d5db"
        : colours[classOf(value, hideout.breaks)] || hideout.nodata || "#d1d5db";
    var selected = hideout.selected && hideout.selected === feature.properties.cell;
    return {
      fillColor: colour,
      fillOpacity: hideout.fillOpacity === undefined ? 0.78 : hideout.fillOpacity,
      // A thin dark edge keeps the palest class visible on the white land.
      color: selected ? "#111827" : hideout.stroke || "#7c2d12",
      weight: selected ? 3 : hideout.weight === undefined ? 0.6 : hideout.weight,
      opacity: selected ? 1 : 0.55,
    };
  }

  function cellOutline(cell) {
    if (!cell || !window.h3.isValidCell(cell)) {
      return { type: "FeatureCollection", features: [] };
    }
    return {
      type: "FeatureCollection",
      features: [
        {
          type: "Feature",
          id: cell,
          geometry: { type: "Polygon", coordinates: [window.h3.cellToBoundary(cell, true)] },
          properties: { cell: cell },
        },
      ],
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
    classOf: classOf,
    cellOutline: cellOutline,
    setDocument: setDocument,
  });
  // Dash looks clientside callbacks up in window.dash_clientside[namespace].
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.pnm = window.pnm;
})();
