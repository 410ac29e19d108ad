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
 * - fitBesideGapList(className, bounds): clientside callback; fits the area beside the
 *   ranked gap list the first time it shows on a page opened on the whole area.
 * - classOf(value, breaks): the class index of a value (first break >= value).
 * - cellOutline(cell): clientside callback; the outline of the selected cell (built
 *   with h3-js from its id) as a FeatureCollection.
 * - setDocument(doc): clientside callback; sets <html lang> and the page title.
 * - status.hexes: what was drawn and when (ms since navigation), for tests and timing;
 *   inspect(), pixelAt(lat, lng) and screenPoint(lat, lng): the drawn layer's cells,
 *   values and hideout, the colour its canvas holds at a point, and where a point is on
 *   the page.
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
      reused: 0, // hexagons of the last payload copied from the one before (no h3-js)
      builtAt: null, // performance.now() when the last payload arrived
      drawnAt: null, // performance.now() when it was on screen
      res: null, // H3 resolution of the last payload
      layer: null, // layer id of the last payload
      seq: 0, // number of the last payload
      key: null, // the server's token of the last payload's layer (its hideout carries it too)
      paints: 0, // canvas paints so far (each pan, zoom and restyle is one)
      paintMs: null, // time of the last paint
      paintedAt: null, // performance.now() at the end of the last paint
      inView: null, // hexagons in (or near) the view at the last paint
      mode: null, // how the last paint drew them: "polygons" or "pixels" (small and many)
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
    var geometry = new Geometry(cells.length);
    // A new payload mostly repeats the last one's cells (another layer, window or filter
    // over the same view, a pan): their rings are copied, only new cells go to h3-js.
    var previous = geometries[0];
    var known = previous && previous.cells ? previous.indexOfCells() : null;
    var reused = 0;
    for (var i = 0; i < geometry.n; i++) {
      var at = known ? known.get(cells[i]) : undefined;
      if (at === undefined) {
        geometry.setRing(i, window.h3.cellToBoundary(cells[i]));
      } else {
        geometry.copyRing(i, previous, at);
        reused += 1;
      }
    }
    geometry.cells = cells;
    status.hexes.reused = reused;
    geometry.seq = hexes.seq;
    geometries.unshift(geometry);
    geometries.length = Math.min(geometries.length, 2);
    status.hexes.buildMs = window.performance.now() - t0;
    return geometry;
  }

  // Hexagons are 6 vertices (pentagons 5; a few cells where an edge crosses an
  // icosahedron face have up to 10): rings are stored at a fixed stride of 10 vertices.
  var STRIDE = 10;
  var QUARTER = Math.PI / 4;
  var DEG_TO_HALF_RAD = Math.PI / 360;
  var TWO_PI = 2 * Math.PI;

  function worldX(lng) {
    return lng / 360 + 0.5;
  }

  function worldY(lat) {
    return 0.5 - Math.log(Math.tan(QUARTER + lat * DEG_TO_HALF_RAD)) / TWO_PI;
  }

  function Geometry(n) {
    this.n = n;
    this.cells = null; // the cell ids, in ring order
    this.index = null; // cell id -> ring number (indexOfCells)
    this.count = new Uint8Array(n); // vertices of each ring
    this.xy = new Float64Array(n * STRIDE * 2); // Web-Mercator world units, [0, 1]
    this.box = new Float64Array(n * 4); // minX, minY, maxX, maxY of each ring
  }

  Geometry.prototype.indexOfCells = function () {
    // Cell id -> ring number, made on first use.
    if (!this.index) {
      this.index = new Map();
      for (var i = 0; i < this.cells.length; i++) {
        this.index.set(this.cells[i], i);
      }
    }
    return this.index;
  };

  Geometry.prototype.copyRing = function (i, from, j) {
    this.count[i] = from.count[j];
    this.xy.set(from.xy.subarray(j * STRIDE * 2, (j + 1) * STRIDE * 2), i * STRIDE * 2);
    this.box.set(from.box.subarray(4 * j, 4 * j + 4), 4 * i);
  };

  Geometry.prototype.setRing = function (i, ring) {
    // ring: [[lat, lng], ...] from h3-js, open.
    var n = Math.min(ring.length, STRIDE);
    var k = i * STRIDE * 2;
    var minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (var r = 0; r < n; r++) {
      var x = worldX(ring[r][1]);
      var y = worldY(ring[r][0]);
      this.xy[k++] = x;
      this.xy[k++] = y;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
    this.count[i] = n;
    this.box[4 * i] = minX;
    this.box[4 * i + 1] = minY;
    this.box[4 * i + 2] = maxX;
    this.box[4 * i + 3] = maxY;
  };

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

  // Below this width on screen (CSS px), and from this many cells up, hexagons are
  // written as pixels (HexLayer._raster) rather than drawn as canvas polygons.
  var RASTER_BELOW_PX = 6;
  var RASTER_FROM_CELLS = 3000;
  // Which cell covers each device pixel of the canvas, for the last view rasterised.
  var raster = { key: null, ids: null, inView: 0, image: null };
  var packedCache = {};

  function packed(colour, alpha) {
    // "#rrggbb" and an alpha as one 32-bit RGBA pixel (little-endian: ABGR in the word).
    var key = colour + "/" + alpha;
    if (!(key in packedCache)) {
      var hex = /^#([0-9a-f]{6})$/i.exec(colour || "");
      var n = hex ? parseInt(hex[1], 16) : 0xd1d5db;
      packedCache[key] =
        ((alpha << 24) | ((n & 255) << 16) | (((n >> 8) & 255) << 8) | (n >> 16)) >>> 0;
    }
    return packedCache[key];
  }

  function rasterize(g, scale, ox, oy, m, w, h) {
    // Scan-convert every ring (convex) into a cell index per device pixel: a pixel
    // belongs to the cell that contains its centre (half-open on the right and the
    // bottom, so neighbours sharing an edge never both take a pixel).
    var ids = new Int32Array(w * h).fill(-1);
    var xs = new Float64Array(STRIDE), ys = new Float64Array(STRIDE);
    var inView = 0;
    for (var i = 0; i < g.n; i++) {
      var k = i * STRIDE * 2, n = g.count[i];
      var minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
      for (var v = 0; v < n; v++) {
        xs[v] = (g.xy[k + 2 * v] * scale - ox) * m;
        ys[v] = (g.xy[k + 2 * v + 1] * scale - oy) * m;
        if (xs[v] < minX) minX = xs[v];
        if (xs[v] > maxX) maxX = xs[v];
        if (ys[v] < minY) minY = ys[v];
        if (ys[v] > maxY) maxY = ys[v];
      }
      if (maxX < 0 || minX >= w || maxY < 0 || minY >= h) {
        continue;
      }
      inView += 1;
      var last = Math.min(h - 1, Math.ceil(maxY - 0.5) - 1);
      for (var row = Math.max(0, Math.ceil(minY - 0.5)); row <= last; row++) {
        var yc = row + 0.5, left = Infinity, right = -Infinity;
        for (v = 0; v < n; v++) {
          var u = v + 1 === n ? 0 : v + 1;
          var ya = ys[v], yb = ys[u];
          if ((ya <= yc && yc < yb) || (yb <= yc && yc < ya)) {
            var x = xs[v] + ((yc - ya) * (xs[u] - xs[v])) / (yb - ya);
            if (x < left) left = x;
            if (x > right) right = x;
          }
        }
        var c0 = Math.max(0, Math.ceil(left - 0.5)), c1 = Math.min(w, Math.ceil(right - 0.5));
        for (var c = c0, base = row * w; c < c1; c++) {
          ids[base + c] = i;
        }
      }
    }
    return { key: null, ids: ids, inView: inView, image: null };
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
        shown = this;
        mapPath = window.location.pathname;
      },

      onRemove: function (map) {
        L.Canvas.prototype.onRemove.call(this, map);
        if (shown === this) {
          shown = null;
        }
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

      _painted: function (t0, inView, mode) {
        var s = status.hexes;
        s.mode = mode;
        s.paintedAt = window.performance.now();
        s.paintMs = s.paintedAt - t0;
        s.inView = inView;
        s.paints += 1;
        // Drawn means: the last payload, coloured by its own layer's style.
        if (this._hexes.seq === s.seq) {
          markDrawn();
        }
      },

      _raster: function (g, classes, colours, nodata, opacity, scale, origin) {
        // Many hexagons a few pixels wide: written straight into the canvas's pixels
        // (which cell covers each pixel is kept for the view, so a restyle only recolours)
        // instead of 44k antialiased canvas polygons, whose software rasterisation takes
        // Chromium ~100 ms. No edges: at this size they would only darken the map.
        var canvas = this._container;
        var b = this._bounds;
        var w = canvas.width, h = canvas.height;
        var m = w / (b.max.x - b.min.x); // device pixels per layer point
        var key = [g.seq, scale, origin.x + b.min.x, origin.y + b.min.y, w, h].join(",");
        if (raster.key !== key) {
          raster = rasterize(g, scale, origin.x + b.min.x, origin.y + b.min.y, m, w, h);
          raster.key = key;
        }
        var alpha = Math.round(255 * opacity);
        var byClass = {};
        var lut = new Uint32Array(g.n);
        for (var i = 0; i < g.n; i++) {
          var cls = classes[i];
          if (!(cls in byClass)) {
            byClass[cls] = packed(cls < 0 ? nodata : colours[cls] || nodata, alpha);
          }
          lut[i] = byClass[cls];
        }
        if (!raster.image || raster.image.width !== w || raster.image.height !== h) {
          raster.image = this._ctx.createImageData(w, h);
        }
        var out = new Uint32Array(raster.image.data.buffer);
        var ids = raster.ids;
        for (var p = 0; p < ids.length; p++) {
          var id = ids[p];
          out[p] = id < 0 ? 0 : lut[id];
        }
        this._ctx.putImageData(raster.image, 0, 0); // device pixels: no transform applies
        return raster.inView;
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
        if ((hide.key || null) !== (this._hexes.key || null)) {
          // The style of this payload's layer is still on its way (the geometry was
          // built meanwhile): colours of another layer would mislead, so nothing yet.
          return;
        }
        var classes = this._classIndex();
        var colours = hide.colours || [];
        var nodata = hide.nodata || "#d1d5db";
        var scale = map.options.crs.scale(map.getZoom());
        var origin = map.getPixelOrigin();
        var b = this._bounds; // layer points of the canvas
        var x0 = (b.min.x + origin.x) / scale, x1 = (b.max.x + origin.x) / scale;
        var y0 = (b.min.y + origin.y) / scale, y1 = (b.max.y + origin.y) / scale;
        var fillOpacity = hide.fillOpacity === undefined ? 0.78 : hide.fillOpacity;
        if (
          g.n >= RASTER_FROM_CELLS &&
          (g.box[2] - g.box[0]) * scale < RASTER_BELOW_PX &&
          !hide.halo &&
          !this._hexes.h
        ) {
          var shownCells = this._raster(g, classes, colours, nodata, fillOpacity, scale, origin);
          this._painted(t0, shownCells, "pixels");
          return;
        }
        var ox = origin.x, oy = origin.y;
        var xy = g.xy, count = g.count, box = g.box;
        var cells = this._hexes.cells;
        var hot = this._hexes.h;
        // Cells in view, by class. Canvas fills one path per chunk of CHUNK cells: Skia's
        // cost grows faster than linearly with a path's size, and one fill per cell pays
        // the per-call cost 44k times; 16 is the measured optimum on Chromium.
        var byClass = {};
        var marked = [];
        var chosen = -1;
        var inView = 0;
        for (var i = 0; i < g.n; i++) {
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
          var k = i * STRIDE * 2, e = k + count[i] * 2;
          ctx.moveTo(xy[k] * scale - ox, xy[k + 1] * scale - oy);
          for (k += 2; k < e; k += 2) {
            ctx.lineTo(xy[k] * scale - ox, xy[k + 1] * scale - oy);
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
        this._painted(t0, inView, "polygons");
      },
    });
    return HexLayer;
  }

  var shown = null; // the hex layer on the map (for inspect and pixelAt)

  function inspect() {
    // What the hex layer on the map draws: its cells, values and hideout (for tests and a
    // look in the console).
    return shown ? { cells: shown._hexes.cells, v: shown._hexes.v, hideout: shown._hideout } : null;
  }

  function pixelAt(lat, lng) {
    // The [r, g, b, a] the hex layer's canvas holds at a point (for tests).
    if (!shown || !shown._map || !shown._ctx) {
      return null;
    }
    var p = shown._map.latLngToLayerPoint([lat, lng]).subtract(shown._bounds.min);
    var m = shown._container.width / (shown._bounds.max.x - shown._bounds.min.x);
    var data = shown._ctx.getImageData(Math.round(p.x * m), Math.round(p.y * m), 1, 1).data;
    return [data[0], data[1], data[2], data[3]];
  }

  function screenPoint(lat, lng) {
    // Where a point is on the page ([x, y], CSS px from the viewport's top left).
    if (!shown || !shown._map) {
      return null;
    }
    var p = shown._map.latLngToContainerPoint([lat, lng]);
    var box = shown._map.getContainer().getBoundingClientRect();
    return [box.left + p.x, box.top + p.y];
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

  function warmUp() {
    // h3-js is compiled JavaScript that runs slowly until the engine has optimised it (the
    // first 44k boundaries take twice as long as the next); exercising it while the page
    // waits for its first layer makes that layer's hexagons build at full speed.
    if (!window.h3) {
      return;
    }
    var cell = window.h3.latLngToCell(31.3, 107.7, 9);
    var ring = window.h3.gridDisk(cell, 24);
    for (var i = 0; i < ring.length; i++) {
      window.h3.cellToLatLng(ring[i]);
      window.h3.cellToBoundary(ring[i]);
    }
  }

  // The query the page was opened with: a view in it is the user's, never refitted.
  var openedWith = window.location.search;
  var fittedBesideList = false;

  function fitBesideGapList(className, bounds) {
    // Clientside callback: the first time the ranked gap list shows on a page opened on
    // the whole area (no lat/zoom in its URL), fit the area into the map beside the list,
    // which would otherwise cover its western part.
    var none = window.dash_clientside.no_update;
    if (fittedBesideList || !bounds || !className || className.indexOf("hidden") >= 0) {
      return none;
    }
    fittedBesideList = true;
    var list = document.getElementById("gap-list");
    var map = document.getElementById("map");
    if (!list || !map || /[?&](lat|lng|zoom)=/.test(openedWith)) {
      return none;
    }
    var box = list.getBoundingClientRect();
    var edge = map.getBoundingClientRect();
    var body = document.getElementById("gap-list-body");
    // A list folded to its title (a laptop, a phone: assets/screens.css) takes a strip
    // at the top, not a column at the side.
    var folded = body && window.getComputedStyle(body).display === "none";
    var topLeft = folded ? [16, box.bottom - edge.top + 8] : [box.right - edge.left + 16, 16];
    return {
      bounds: bounds,
      transition: "fitBounds",
      options: { animate: false, paddingTopLeft: topLeft, paddingBottomRight: [16, 16] },
    };
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

  if (window.requestIdleCallback) {
    window.requestIdleCallback(warmUp, { timeout: 2000 });
  }

  // The map's whole view lives in its URL, and every change of view is a history entry.
  // Back and Forward (popstate) within the map load that entry's URL afresh, since the
  // page is built from its URL; a change of page is the router's (Dash's) own business.
  var mapPath = null;
  window.addEventListener("popstate", function () {
    if (mapPath !== null && document.getElementById("map") && window.location.pathname === mapPath) {
      window.location.reload();
    }
  });

  window.pnm = Object.assign({}, window.pnm, {
    status: status,
    buildHexes: buildHexes,
    hexLayer: hexLayer,
    inspect: inspect,
    pixelAt: pixelAt,
    screenPoint: screenPoint,
    pickStyle: pickStyle,
    fitBesideGapList: fitBesideGapList,
    classOf: classOf,
    cellOutline: cellOutline,
    setDocument: setDocument,
  });
  // Dash looks clientside callbacks up in window.dash_clientside[namespace].
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.pnm = window.pnm;
})();
