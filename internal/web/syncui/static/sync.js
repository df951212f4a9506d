// Live progress for a group's sync runs: while a run is going, fetch the
// runs API every 2 seconds and redraw the table. Without JavaScript the
// page shows the history as of its loading.
(function () {
  "use strict";
  var table = document.getElementById("sync-runs");
  if (!table) { return; }
  var url = table.getAttribute("data-runs-url");
  var body = table.tBodies[0];
  function when(s) {
    if (!s) { return ""; }
    var d = new Date(s);
    return d.toISOString().replace("T", " ").slice(0, 16) + " UTC";
  }
  function cell(tr, text) {
    var td = document.createElement("td");
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }
  function draw(runs) {
    while (body.firstChild) { body.removeChild(body.firstChild); }
    runs.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-status", r.status);
      var c = r.counts || {};
      cell(tr, when(r.startedAt));
      cell(tr, when(r.finishedAt));
      cell(tr, r.status + (r.dryRun ? " (dry run)" : ""));
      [c.created, c.updated, c.unchanged, c.disabled, c.removed, c.leftGroup].forEach(function (n) { cell(tr, String(n || 0)); });
      cell(tr, (r.errors || []).join(" "));
      body.appendChild(tr);
    });
  }
  function going() {
    return body.querySelector('tr[data-status="running"]') !== null;
  }
  var polls = 0;
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (data) {
        if (data && data.value) { draw(data.value); }
        polls++;
        // Keep polling while a run is going, and briefly after a click
        // queued one that has not started yet.
        if (going() || polls < 5) { setTimeout(poll, 2000); }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  poll();
})();
