// Runs on /oauth/callback inside the authorization popup: tell the data
// source page how it went, then close. Without an opener (the full-window
// flow, or the popup was detached) the page stays and links back.
(function () {
  "use strict";
  var el = document.getElementById("result");
  if (!el) return;
  var ok = el.getAttribute("data-ok") === "true";
  var message = el.textContent.trim();
  var opener = window.opener;
  if (!opener || opener.closed) return;
  try {
    opener.postMessage({ type: "tenantlink-authorize", ok: ok, message: message }, location.origin);
  } catch (e) {
    return; // the opener navigated elsewhere: leave the page readable
  }
  window.close();
})();
