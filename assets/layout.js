/*
 * window.pnm.layout: the map page's drawer and folds (dashboard/components/folds.py).
 *
 * - drawer(...clicks and choices, className): clientside callback; the class of the
 *   page body. Its open button toggles the drawer; its close button, a tap on the
 *   backdrop or a choice in the sidebar closes it. Only a phone shows it as a drawer
 *   (pnm.css); on a larger screen the class changes nothing.
 * - fold(clicks, other, className): clientside callback; the class of a fold's body.
 *   Its button flips what the screen shows now — the default of a "pnm-fold-small"
 *   body is folded on a laptop or a phone and open on a large screen, so the state is
 *   read from the page, not from the class — and stores it as pnm-folded or
 *   pnm-unfolded. The other input puts the default back: a new cell unfolds the panel,
 *   and on a phone a chosen gap entry folds the list away.
 */
(function () {
  "use strict";

  var OPEN = "pnm-drawer-opened";
  var PHONE = "(max-width: 899px)";

  function noUpdate() {
    return window.dash_clientside.no_update;
  }

  function triggered() {
    var ctx = window.dash_clientside.callback_context;
    var first = ctx.triggered && ctx.triggered[0];
    return { id: ctx.triggered_id, value: first ? first.value : null };
  }

  function withClass(className, name, on) {
    var classes = (className || "").split(/\s+/).filter(function (c) {
      return c && c !== name;
    });
    if (on) {
      classes.push(name);
    }
    return classes.join(" ");
  }

  function drawer() {
    var args = Array.prototype.slice.call(arguments);
    var className = args[args.length - 1] || "pnm-body";
    var open = className.split(/\s+/).indexOf(OPEN) >= 0;
    var next = triggered().id === "drawer-open" ? !open : false;
    return next === open ? noUpdate() : withClass(className, OPEN, next);
  }

  function isFolded(el, className) {
    var classes = (className || "").split(/\s+/);
    if (classes.indexOf("pnm-folded") >= 0) {
      return true;
    }
    if (classes.indexOf("pnm-unfolded") >= 0) {
      return false;
    }
    return !!el && window.getComputedStyle(el).display === "none";
  }

  function fold(clicks, other, className) {
    var ctx = window.dash_clientside.callback_context;
    var target = ctx.outputs_list && ctx.outputs_list.id;
    var base = withClass(withClass(className, "pnm-folded", false), "pnm-unfolded", false);
    var trigger = triggered();
    if (typeof trigger.id === "string" && /-fold$/.test(trigger.id)) {
      if (!clicks) {
        return noUpdate();
      }
      var folded = isFolded(document.getElementById(target), className);
      return withClass(base, folded ? "pnm-unfolded" : "pnm-folded", true);
    }
    if (trigger.id && typeof trigger.id === "object") {
      // A gap entry: a real click (a redrawn list "clicks" with 0), on a phone only.
      if (!trigger.value || !window.matchMedia(PHONE).matches) {
        return noUpdate();
      }
    }
    return base === className ? noUpdate() : base;
  }

  window.pnm = window.pnm || {};
  window.pnm.layout = { drawer: drawer, fold: fold };
  // Dash looks clientside callbacks up in window.dash_clientside[namespace].
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.pnm_layout = window.pnm.layout;
})();
