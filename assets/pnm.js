/*
 * window.pnm: the prevention-network map's browser-side functions, in one namespace.
 *
 * - buildHexes(payload): clientside callback; turns the compact hex payload the server
 *   sends ({layer, res, cells: [H3 ids], v: [values], h: [hot flags, optional]}) into the
 *   data of the hex layer's GeoJSON: one point feature carrying the cells.
 * - hexLayer(feature, latlng, context): pointToLayer of that GeoJSON; a canvas layer (a
 *   Leaflet Canvas renderer that paints the hexagons itself, built once per payload with
 *   h3-js and kept in Web-Mercator units). It colours them from the GeoJSON's hideout:
 *   {breaks: [upper bounds], colours: [one per class], nodata, selected, stroke, weight,
 *   fillOpacity, halo, mark}; with breaks null the value is itself a category index. A
 *   new classification or highlight changes only the hideout: no cell is resent and no
 *   hexagon rebuilt, only repainted.
 * - pickStyle(styles, scheme, selected): clientside callback; the hideout, legend and
 *   summary of the chosen classification scheme, from the styles of every scheme the
 *   server sent with the layer.
 * - classOf(value, breaks): the class index of a value (first break >= value).
 * - cellOutline(cell): clientside callback; the outline of the selected cell (built
 *   with h3-js from its id) as a FeatureCollection.
 * - setDocument(doc): clientside callback; sets <html lang> and the page title.
 * - status.hexes: what was drawn and when (ms since navigation), for tests and timing.
 *
 * Why a layer of our own: Leaflet's GeoJSON makes one Polygon object per feature, and
 * dash-leaflet re-creates them all when the hideout changes — 7 s for the county's 44k
 * res-9 cells and 3.5 s per restyle. One canvas and typed arrays do it in milliseconds.
 *
 * Referenced from Python as Namespace("pnm")("hexLayer") and
 * ClientsideFunction(namespace="pnm", function_name="buildHexes").
 */
(function () {
  "use strict";

  var status = {
    hexes: {
      expected: 0, // hexagons in the last payload
      drawn: -1, // hexagons painted (set one frame after the paint of the last payload)
      generation: 0,
      buildMs: null, // time spent building the hexagons from cell ids (h3-js)
      builtAt: null, // performance.now() when the last payload arrived
      drawnAt: null, // performance.now() when it was on screen
      bytes: null, // length of the JSON payload the polygons were built from
      res: null, // H3 resolution of the last payload
      layer: null, // layer id of the last payload
      seq: 0, // number of the last payload
      key: null, // the server's token of the last payload's layer (its hideout carries it too)
      paints: 0, // canvas paints so far (each pan, zoom and restyle is one)
      paintMs: null, // time of the last paint
      paintedAt: null, // performance.now() at the end of the last paint
      inView: null, // hexagons in (or near) the view at the last paint
    },
  };
  // Outline of hexagons flagged as hot spots (payload.h), unless the hideout has a mark.
  var HOT_MARK = { color: "#fef08a", weight: 2.5 };
  var CHUNK = 16;
  var rgbaCache = {};

  function rgba(colour, alpha) {
    // "#rrggbb" (or "#rgb") and an opacity as one canvas colour, so fill and edge need no
    // globalAlpha switches; other CSS colours are passed through unchanged.
    var key = colour + "/" + alpha;
    if (!(key in rgbaCache)) {
      var hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(colour || "");
      if (!hex) {
        rgbaCache[key] = colour;
      } else {
        var h = hex[1].length === 3 ? hex[1].replace(/(.)/g, "$1$1") : hex[1];
        var n = parseInt(h, 16);
        rgbaCache[key] = "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + alpha + ")";
      }
    }
    return rgbaCache[key];
  }

  function markDrawn() {
    var s = status.hexes;
    var generation = ++s.generation;
    // The canvas was painted synchronously; the next animation frame is the one that
    // shows it (as deck.gl's onAfterRender, which runs inside that frame's callback).
    window.requestAnimationFrame(function () {
      if (generation === s.generation) {
        s.drawn = s.expected;
        s.drawnAt = window.performance.now();
      }
    });
  }

  // The hexagons' geometry, computed once per payload with h3-js and kept for the two
  // most recent payloads (a restyle re-creates the layer from the same payload): each
  // vertex in Web-Mercator world units ([0, 1] across the world), so drawing at any zoom
  // is one multiply-add per vertex, and each cell's box for culling to the view.
  var geometries = [];

  function geometryOf(hexes) {
    for (var j = 0; j < geometries.length; j++) {
      if (geometries[j].seq === hexes.seq) {
        return geometries[j];
      }
    }
    var t0 = window.performance.now();
    var cells = hexes.cells;
    var n = cells.length;
    var start = new Uint32Array(n + 1);
    var xy = new Float64Array(n * 12 + 32);
    var box = new Float64Array(n * 4);
    var k = 0;
    var quarter = Math.PI / 4;
    var toRad = Math.PI / 360;
    var twoPi = 2 * Math.PI;
    for (var i = 0; i < n; i++) {
      var ring = window.h3.cellToBoundary(cells[i]); // [[lat, lng], ...], open ring
      if (k + ring.length * 2 > xy.length) {
        var grown = new Float64Array(xy.length * 2);
        grown.set(xy);
        xy = grown;
      }
      start[i] = k / 2;
      var minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
      for (var r = 0; r < ring.length; r++) {
        var x = ring[r][1] / 360 + 0.5;
        var y = 0.5 - Math.log(Math.tan(quarter + ring[r][0] * toRad)) / twoPi;
        xy[k++] = x;
        xy[k++] = y;
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
      }
      box[4 * i] = minX;
      box[4 * i + 1] = minY;
      box[4 * i + 2] = maxX;
      box[4 * i + 3] = maxY;
    }
    start[n] = k / 2;
    var geometry = { seq: hexes.seq, cells: n, start: start, xy: xy, box: box };
    geometries.unshift(geometry);
    geometries.length = Math.min(geometries.length, 2);
    status.hexes.buildMs = window.performance.now() - t0;
    return geometry;
  }

  function buildHexes(payload) {
    // Clientside callback: the payload becomes the data of the hex layer's GeoJSON — one
    // point feature that carries the cells; pointToLayer (hexLayer) draws them all on one
    // canvas. No Leaflet object per hexagon: that is what made 44k cells take seconds.
    var s = status.hexes;
    var cells = (payload && payload.cells) || [];
    s.expected = cells.length;
    s.drawn = -1;
    s.drawnAt = null;
    s.builtAt = window.performance.now();
    s.bytes = payload ? JSON.stringify(payload).length : 0;
    s.res = payload ? payload.res : null;
    s.layer = payload ? payload.layer : null;
    s.seq += 1;
    s.key = (payload && payload.key) || null;
    if (cells.length === 0) {
      markDrawn();
      return { type: "FeatureCollection", features: [] };
    }
    var hexes = { seq: s.seq, key: s.key, cells: cells, v: payload.v || [], h: payload.h || null };
    return {
      type: "FeatureCollection",
      features: [
        {
          type: "Feature",
          geometry: { type: "Point", coordinates: [0, 0] },
          properties: { hexes: hexes },
        },
      ],
    };
  }

  var HexLayer = null;

  function hexLayerClass() {
    // Made on first use: Leaflet (window.L) is loaded by dash-leaflet after this file.
    if (HexLayer) {
      return HexLayer;
    }
    var L = window.L;
    // A canvas renderer that paints the hexagons itself: Leaflet's Renderer does the
    // positioning, padding, zoom animation and clearing; _draw is ours.
    HexLayer = L.Canvas.extend({
      options: { padding: 0.1, interactive: false },

      initialize: function (hexes, hideout) {
        L.Canvas.prototype.initialize.call(this, {});
        this._hexes = hexes;
        this._hideout = hideout || {};
        this._classes = null;
      },

      onAdd: function (map) {
        // Drawn in the pane of the GeoJSON group that holds it (dash-leaflet's Pane).
        var parents = this._eventParents || {};
        for (var id in parents) {
          if (parents[id].options && parents[id].options.pane) {
            this.options.pane = parents[id].options.pane;
          }
        }
        L.Canvas.prototype.onAdd.call(this, map);
      },

      _classIndex: function () {
        if (this._classes) {
          return this._classes;
        }
        var values = this._hexes.v;
        var breaks = this._hideout.breaks;
        var n = this._hexes.cells.length;
        var classes = new Int16Array(n);
        for (var i = 0; i < n; i++) {
          var value = values[i];
          classes[i] = value === null || value === undefined ? -1 : classOf(value, breaks);
        }
        this._classes = classes;
        return classes;
      },

      _draw: function () {
        var ctx = this._ctx;
        var map = this._map;
        if (!ctx || !map || !this._bounds) {
          return;
        }
        var t0 = window.performance.now();
        var hide = this._hideout;
        var g = geometryOf(this._hexes);
        var classes = this._classIndex();
        var colours = hide.colours || [];
        var nodata = hide.nodata || "#d1d5db";
        var scale = map.options.crs.scale(map.getZoom());
        var origin = map.getPixelOrigin();
        var b = this._bounds; // layer points of the canvas
        var x0 = (b.min.x + origin.x) / scale, x1 = (b.max.x + origin.x) / scale;
        var y0 = (b.min.y + origin.y) / scale, y1 = (b.max.y + origin.y) / scale;
        var ox = origin.x, oy = origin.y;
        var xy = g.xy, start = g.start, box = g.box;
        var cells = this._hexes.cells;
        var hot = this._hexes.h;
        // Cells in view, by class. Canvas fills one path per chunk of CHUNK cells: Skia's
        // cost grows faster than linearly with a path's size, and one fill per cell pays
        // the per-call cost 44k times; 16 is the measured optimum on Chromium.
        var byClass = {};
        var marked = [];
        var chosen = -1;
        var inView = 0;
        for (var i = 0; i < g.cells; i++) {
          if (box[4 * i] > x1 || box[4 * i + 2] < x0 || box[4 * i + 1] > y1 || box[4 * i + 3] < y0) {
            continue;
          }
          inView += 1;
          (byClass[classes[i]] || (byClass[classes[i]] = [])).push(i);
          if (hot && hot[i]) {
            marked.push(i);
          }
          if (hide.selected && cells[i] === hide.selected) {
            chosen = i;
          }
        }
        function trace(i) {
          var a = start[i], e = start[i + 1];
          ctx.moveTo(xy[2 * a] * scale - ox, xy[2 * a + 1] * scale - oy);
          for (var v = a + 1; v < e; v++) {
            ctx.lineTo(xy[2 * v] * scale - ox, xy[2 * v + 1] * scale - oy);
          }
          ctx.closePath();
        }
        function paint(list, fill, stroke) {
          for (var c = 0; c < list.length; c += CHUNK) {
            ctx.beginPath();
            var end = Math.min(list.length, c + CHUNK);
            for (var j = c; j < end; j++) {
              trace(list[j]);
            }
            if (fill) {
              ctx.fill();
            }
            if (stroke) {
              ctx.stroke();
            }
          }
        }
        var fillOpacity = hide.fillOpacity === undefined ? 0.78 : hide.fillOpacity;
        var weight = hide.weight === undefined ? 0.6 : hide.weight;
        var edge = rgba(hide.stroke || "#7c2d12", 0.55);
        ctx.save();
        ctx.lineJoin = "round";
        for (var key in byClass) {
          var cls = Number(key);
          var colour = cls < 0 ? nodata : colours[cls] || nodata;
          ctx.fillStyle = rgba(colour, fillOpacity);
          if (hide.halo) {
            // An outline in the fill's own colour: a sparse view's lone hexagons read larger.
            ctx.strokeStyle = colour;
            ctx.lineWidth = hide.halo;
          } else {
            // A thin dark edge keeps the palest class visible on the white land.
            ctx.strokeStyle = edge;
            ctx.lineWidth = weight;
          }
          paint(byClass[key], true, ctx.lineWidth > 0);
        }
        if (marked.length) {
          var mark = hide.mark || HOT_MARK;
          ctx.strokeStyle = mark.color;
          ctx.lineWidth = mark.weight;
          paint(marked, false, true);
        }
        if (chosen >= 0) {
          ctx.strokeStyle = "#111827";
          ctx.lineWidth = 3;
          paint([chosen], false, true);
        }
        ctx.restore();
        var s = status.hexes;
        s.paintedAt = window.performance.now();
        s.paintMs = s.paintedAt - t0;
        s.inView = inView;
        s.paints += 1;
        // Drawn means: the last payload, coloured by its own layer's style (until that
        // arrives, the cells show in the previous or the "no data" colours).
        if (this._hexes.seq === s.seq && (hide.key || null) === (this._hexes.key || null)) {
          markDrawn();
        }
      },
    });
    return HexLayer;
  }

  function hexLayer(feature, latlng, context) {
    // pointToLayer of the hex layer's GeoJSON (see buildHexes). A new hideout (a new
    // classification, a highlight) re-creates this layer from the same payload: only the
    // paint is redone, the geometry is kept.
    var Layer = hexLayerClass();
    return new Layer(feature.properties.hexes, context && context.hideout);
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

  function pickStyle(styles, scheme, selected) {
    // Clientside callback: the hideout, legend and summary of the chosen scheme, from the
    // styles the server sent for every scheme with the layer (no round trip on a change).
    var none = window.dash_clientside.no_update;
    if (!styles || !styles.schemes) {
      return [none, none, none];
    }
    var chosen = styles.schemes[scheme];
    if (!chosen) {
      for (var name in styles.schemes) {
        chosen = styles.schemes[name];
        break;
      }
    }
    var hideout = Object.assign({}, chosen.hideout, { selected: selected || "" });
    return [hideout, chosen.legend, styles.summary];
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
    hexLayer: hexLayer,
    pickStyle: pickStyle,
    classOf: classOf,
    cellOutline: cellOutline,
    setDocument: setDocument,
  });
  // Dash looks clientside callbacks up in window.dash_clientside[namespace].
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.pnm = window.pnm;
})();
