// What every page shares, loaded by the layout: times in the viewer's
// time zone, no form sent again by a reload of a shown-once page, and a
// question before leaving a form with unsaved edits.
// Pages work without it: times then stay in UTC, and leaving just leaves.
(function () {
  "use strict";

  var months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function two(n) { return (n < 10 ? "0" : "") + n; }

  // The server renders <time data-local datetime="ISO 8601">… UTC</time>;
  // this rewrites the text to the browser's local time in the same format
  // ("2 Dec 2026, 16:53") and keeps the UTC text as the tooltip.
  function localTimes(root) {
    (root || document).querySelectorAll("time[data-local]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d.getTime())) return;
      if (!el.title) el.title = el.textContent.trim();
      el.textContent = d.getDate() + " " + months[d.getMonth()] + " " + d.getFullYear() + ", " + two(d.getHours()) + ":" + two(d.getMinutes());
    });
  }
  window.tenantlinkLocalTimes = localTimes;
  localTimes(document);

  // A page that shows something once (a new API token's secret) is the
  // answer to a POST: replacing its history entry with a plain GET of the
  // same address makes a reload (or Back then Forward) fetch the page
  // again instead of sending the form again, which would create another
  // token and show its secret.
  if (document.querySelector("[data-shown-once]") && window.history && history.replaceState) {
    history.replaceState(null, "", location.href);
  }

  // Forms marked data-confirm-unsaved ask before the page is left with
  // edits not yet saved: the browser's own question on closing or
  // navigating away, and a confirm() on links marked data-close (Close,
  // Cancel).
  var forms = document.querySelectorAll("form[data-confirm-unsaved]");
  if (!forms.length) return;
  var dirty = false;
  forms.forEach(function (form) {
    form.addEventListener("input", function () { dirty = true; });
    form.addEventListener("change", function () { dirty = true; });
    form.addEventListener("submit", function () { dirty = false; });
  });
  window.addEventListener("beforeunload", function (ev) {
    if (!dirty) return;
    ev.preventDefault();
    ev.returnValue = "";
  });
  document.querySelectorAll("a[data-close], button[data-close]").forEach(function (el) {
    el.addEventListener("click", function (ev) {
      if (!dirty) return;
      if (!window.confirm("You have unsaved changes. Leave without saving?")) {
        ev.preventDefault();
        return;
      }
      dirty = false; // answered: do not ask again on unload
    });
  });
})();
