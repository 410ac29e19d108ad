/*
 * window.pnm.auth: when a session ends while a page is open, the server answers the
 * page's callbacks with HTTP 401; go to the sign-in page (or, for a wall kiosk opened
 * with its token, reload: the token signs it in again) instead of a silently dead page.
 */
(function () {
  "use strict";
  var original = window.fetch;
  var leaving = false;

  function onUnauthorised() {
    if (leaving) {
      return;
    }
    leaving = true;
    var here = window.location.pathname + window.location.search;
    if (new URLSearchParams(window.location.search).has("token")) {
      window.location.reload();
    } else {
      window.location.assign("/login?next=" + encodeURIComponent(here));
    }
  }

  window.fetch = function () {
    return original.apply(this, arguments).then(function (response) {
      if (response.status === 401 && String(response.url).indexOf("/_dash-") !== -1) {
        onUnauthorised();
      }
      return response;
    });
  };
  window.pnm = Object.assign({}, window.pnm, { auth: { onUnauthorised: onUnauthorised } });
})();
