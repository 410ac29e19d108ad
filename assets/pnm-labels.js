/*
 * window.pnm's names on the map (loaded beside pnm.js, which keeps these keys).
 *
 * - labelLayer(feature, latlng, context): pointToLayer of a GeoJSON holding one point
 *   whose properties carry {labels: {zooms: {kind: [from, below]}, short_below: zoom,
 *   labels: [{k: kind, t: text, s: second line, short: text below short_below,
 *   at: [lat, lng], more: [[lat, lng], ...]}, ...]}} (dashboard.views.labels; more: a
 *   wide grid's further points, one of which carries its name when its own is out of
 *   view). A Leaflet layer of our own: after every move and zoom it places the labels
 *   of the zoom's kinds that have a point in view, in the server's order, on the point
 *   or just above or below it, skipping one that would overlap a label already placed
 *   wherever it went, as <span>s whose text is set with textContent (names come from
 *   imported files: never parsed as HTML). Text widths are measured on a canvas, so
 *   placing hundreds of labels costs no layout until they are added at once.
 * - placePoint(feature, latlng): pointToLayer of the searched place's outline when the
 *   place is a point (a community): a ring around it.
 * - labelLayers: the label layers on the map (a test adds one of its own to time it).
 * - labelStatus: what the last redraw placed (count, texts, kinds, skipped, ms, zoom,
 *   view), for tests and timing.
 */
(function () {
  "use strict";

  var labelStatus = {
    drawn: 0, // labels placed by the last redraw
    texts: [], // their texts, in the order placed
    kinds: [],
    skipped: 0, // labels of the zoom in view that found no free place
    ms: null, // time of the last redraw
    redraws: 0,
    zoom: null,
    view: null, // [[south, west], [north, east]] of the map at the last redraw
  };
  var MARGIN = 4; // px kept free around each label
  var SHIFTS = [0, -1, 1]; // where a label may go: on its point, one label above, below
  var measure = null;
  var widths = {};

  function textWidth(text, font) {
    var key = font + "|" + text;
    if (!(key in widths)) {
      measure = measure || document.createElement("canvas").getContext("2d");
      measure.font = font;
      widths[key] = measure.measureText(text).width;
    }
    return widths[key];
  }

  function fontOf(container, kind, sub) {
    // The computed font of a kind's label (the wall's are scaled with its screen).
    var probe = document.createElement("span");
    probe.className = "pnm-label pnm-label-" + kind + (sub ? " pnm-label-sub" : "");
    probe.style.visibility = "hidden";
    container.appendChild(probe);
    var style = window.getComputedStyle(probe);
    var font = {
      css: style.fontWeight + " " + style.fontSize + " " + style.fontFamily,
      size: parseFloat(style.fontSize) || 12,
    };
    container.removeChild(probe);
    return font;
  }

  function seen(p, size) {
    return p.x >= 0 && p.y >= 0 && p.x <= size.x && p.y <= size.y;
  }

  function anchorOf(label, map, size) {
    // Where a label goes on screen: its own point if in view, else (a wide grid) its
    // further point in view nearest the view's centre; null when none is in view.
    var c = map.latLngToContainerPoint(label.at);
    if (seen(c, size) || !label.more) {
      return seen(c, size) ? c : null;
    }
    var best = null, far = Infinity;
    for (var m = 0; m < label.more.length; m++) {
      var q = map.latLngToContainerPoint(label.more[m]);
      var d = (q.x - size.x / 2) * (q.x - size.x / 2) + (q.y - size.y / 2) * (q.y - size.y / 2);
      if (d < far && seen(q, size)) {
        best = q;
        far = d;
      }
    }
    return best;
  }

  var LabelLayer = null;
  var onMap = []; // the label layers on a map (window.pnm.labelLayers, for tests and timing)

  function labelLayerClass() {
    if (LabelLayer) {
      return LabelLayer;
    }
    var L = window.L;
    LabelLayer = L.Layer.extend({
      initialize: function (data) {
        this._data = data || { zooms: {}, labels: [] };
      },

      onAdd: function (map) {
        var pane = "overlayPane";
        var parents = this._eventParents || {};
        for (var id in parents) {
          if (parents[id].options && parents[id].options.pane) {
            pane = parents[id].options.pane;
          }
        }
        this._container = L.DomUtil.create("div", "pnm-labels", map.getPane(pane));
        onMap.push(this);
        map.on("moveend resize viewreset", this._redraw, this);
        map.on("zoomstart", this._hide, this);
        this._redraw();
      },

      onRemove: function (map) {
        map.off("moveend resize viewreset", this._redraw, this);
        map.off("zoomstart", this._hide, this);
        L.DomUtil.remove(this._container);
        this._container = null;
        onMap.splice(onMap.indexOf(this), 1);
      },

      _hide: function () {
        if (this._container) {
          this._container.style.display = "none";
        }
      },

      _redraw: function () {
        var map = this._map, box = this._container;
        if (!map || !box) {
          return;
        }
        var t0 = window.performance.now();
        var zoom = map.getZoom();
        var zooms = this._data.zooms || {};
        var short = this._data.short_below || 0;
        var size = map.getSize();
        var fonts = {};
        var placed = [];
        var fragment = document.createDocumentFragment();
        var texts = [], kinds = [], skipped = 0;
        box.style.display = "none";
        box.textContent = "";
        var labels = this._data.labels || [];
        for (var i = 0; i < labels.length; i++) {
          var label = labels[i];
          var band = zooms[label.k];
          if (!band || zoom < band[0] || zoom >= band[1]) {
            continue;
          }
          var c = anchorOf(label, map, size);
          if (!c) {
            continue;
          }
          if (!fonts[label.k]) {
            fonts[label.k] = [fontOf(box, label.k, false), fontOf(box, label.k, true)];
          }
          var main = fonts[label.k][0], sub = fonts[label.k][1];
          var text = label.short && zoom < short ? label.short : label.t;
          var w = textWidth(text, main.css);
          var h = main.size * 1.25;
          if (label.s) {
            w = Math.max(w, textWidth(label.s, sub.css));
            h += sub.size * 1.25;
          }
          // On its point, else just above or below it (two small precincts side by
          // side in a town seat), else not at all.
          var x0 = c.x - w / 2 - MARGIN, x1 = c.x + w / 2 + MARGIN;
          var dy = null;
          for (var o = 0; o < SHIFTS.length && dy === null; o++) {
            var shift = SHIFTS[o] * (h + 2 * MARGIN);
            var y0 = c.y + shift - h / 2 - MARGIN, y1 = y0 + h + 2 * MARGIN;
            var free = true;
            for (var j = 0; j < placed.length; j += 4) {
              if (x0 < placed[j + 2] && x1 > placed[j] && y0 < placed[j + 3] && y1 > placed[j + 1]) {
                free = false;
                break;
              }
            }
            if (free) {
              dy = shift;
              placed.push(x0, y0, x1, y1);
            }
          }
          if (dy === null) {
            skipped += 1;
            continue;
          }
          var p = map.containerPointToLayerPoint([c.x, c.y + dy]);
          var span = document.createElement("span");
          span.className = "pnm-label pnm-label-" + label.k;
          span.style.left = p.x + "px";
          span.style.top = p.y + "px";
          var line = document.createElement("span");
          line.className = "pnm-label-main";
          line.textContent = text;
          span.appendChild(line);
          if (label.s) {
            var second = document.createElement("span");
            second.className = "pnm-label-sub";
            second.textContent = label.s;
            span.appendChild(second);
          }
          fragment.appendChild(span);
          texts.push(text);
          kinds.push(label.k);
        }
        box.appendChild(fragment);
        box.style.display = "";
        labelStatus.drawn = texts.length;
        labelStatus.texts = texts;
        labelStatus.kinds = kinds;
        labelStatus.skipped = skipped;
        labelStatus.zoom = zoom;
        var b = map.getBounds();
        labelStatus.view = [[b.getSouth(), b.getWest()], [b.getNorth(), b.getEast()]];
        labelStatus.redraws += 1;
        labelStatus.ms = window.performance.now() - t0;
      },
    });
    return LabelLayer;
  }

  function labelLayer(feature) {
    var Layer = labelLayerClass();
    return new Layer(feature.properties.labels);
  }

  function placePoint(feature, latlng) {
    return window.L.circleMarker(latlng, {
      radius: 12,
      color: "#1d4ed8",
      weight: 3,
      fill: true,
      fillOpacity: 0.12,
      interactive: false,
    });
  }

  window.pnm = Object.assign(window.pnm || {}, {
    labelLayer: labelLayer,
    labelStatus: labelStatus,
    labelLayers: onMap,
    placePoint: placePoint,
  });
})();
