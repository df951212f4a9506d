// Live progress for a group's sync runs: while a run is going, fetch the
// runs API every 2 seconds and redraw the table. Without JavaScript the
// page shows the history as of its loading.
(function () {
  "use strict";
  var table = document.getElementById("sync-runs");
  if (!table) { return; }
  var url = table.getAttribute("data-runs-url");
  var body = table.tBodies[0];
  var months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function two(n) { return (n < 10 ? "0" : "") + n; }
  // timeCell renders a time as the server does (page.Time): a <time
  // data-local> with its UTC text, which page.js shows in the viewer's
  // zone, so live rows use the one date format.
  function timeCell(tr, s) {
    var td = document.createElement("td");
    tr.appendChild(td);
    if (!s) { return td; }
    var d = new Date(s);
    if (isNaN(d.getTime())) { return td; }
    var t = document.createElement("time");
    t.setAttribute("data-local", "");
    t.setAttribute("datetime", d.toISOString().replace(/\.\d+Z$/, "Z"));
    t.textContent = d.getUTCDate() + " " + months[d.getUTCMonth()] + " " + d.getUTCFullYear() + ", " +
      two(d.getUTCHours()) + ":" + two(d.getUTCMinutes()) + " UTC";
    td.appendChild(t);
    return td;
  }
  function cell(tr, text) {
    var td = document.createElement("td");
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }
  var csrfInput = document.querySelector('input[name="csrf"]');
  var stopText = "Stop this run? Changes it already applied stay.";
  // A running run can be stopped (after confirmation): the form posts to
  // the page route, which answers with the group page.
  function stopForm(r) {
    var f = document.createElement("form");
    f.method = "post";
    f.className = "inline";
    f.action = url.replace(/\/sync\/runs\?.*$/, "/sync/runs/" + encodeURIComponent(r.id) + "/stop").replace("/api/v1", "");
    f.setAttribute("data-confirm", stopText);
    var i = document.createElement("input");
    i.type = "hidden";
    i.name = "csrf";
    i.value = csrfInput ? csrfInput.value : "";
    f.appendChild(i);
    var b = document.createElement("button");
    b.type = "submit";
    b.textContent = "Stop";
    f.appendChild(b);
    return f;
  }
  document.addEventListener("submit", function (ev) {
    var f = ev.target;
    if (f && f.getAttribute && f.getAttribute("data-confirm") && !window.confirm(f.getAttribute("data-confirm"))) {
      ev.preventDefault();
    }
  });
  var unchangedTitle = "An incremental run reads only what changed: it cannot count the members that did not.";
  // progress is a running run's position: "x of y" with a bar when the
  // source said how many members a full read has, else how many were read.
  function progress(r) {
    var span = document.createElement("span");
    span.className = "run-progress";
    var seen = r.seen || 0;
    if (r.total > 0) {
      var total = Math.max(r.total, seen);
      span.appendChild(document.createTextNode(seen + " of " + total + " "));
      var bar = document.createElement("progress");
      bar.max = total;
      bar.value = seen;
      bar.textContent = seen + " of " + total;
      span.appendChild(bar);
    } else {
      span.textContent = seen + " read";
    }
    return span;
  }
  function draw(runs) {
    while (body.firstChild) { body.removeChild(body.firstChild); }
    runs.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-status", r.status);
      var c = r.counts || {};
      timeCell(tr, r.startedAt);
      timeCell(tr, r.finishedAt);
      var st = cell(tr, r.status + (r.dryRun ? " (dry run)" : ""));
      if (r.status === "running") {
        st.appendChild(document.createTextNode(" "));
        st.appendChild(progress(r));
        st.appendChild(stopForm(r));
      }
      [c.created, c.updated].forEach(function (n) { cell(tr, String(n || 0)); });
      if (c.unchanged === null || c.unchanged === undefined) {
        // An incremental run cannot count the members that did not change.
        var u = cell(tr, "");
        var span = document.createElement("span");
        span.className = "muted";
        span.title = unchangedTitle;
        span.textContent = "\u2013";
        u.appendChild(span);
      } else {
        cell(tr, String(c.unchanged));
      }
      [c.disabled, c.removed, c.leftGroup, c.skipped].forEach(function (n) { cell(tr, String(n || 0)); });
      cell(tr, (r.errors || []).join(" "));
      body.appendChild(tr);
      if (window.tenantlinkLocalTimes) { window.tenantlinkLocalTimes(tr); }
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

  // With real time on, the member list follows the tenant: poll the
  // group every 2 seconds and show new members without reloading.
  var list = document.getElementById("group-members");
  if (!list || list.getAttribute("data-live") !== "true") { return; }
  var groupURL = list.getAttribute("data-group-url");
  var count = document.getElementById("member-count");
  var emails = {};
  function get(u) {
    return fetch(u, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (res) { return res.ok ? res.json() : null; });
  }
  function refresh() {
    get(groupURL).then(function (g) {
      if (!g) { return; }
      var ids = (g.members || []).slice(0, 50);
      count.textContent = String((g.members || []).length);
      return Promise.all(ids.map(function (id) {
        if (emails[id]) { return emails[id]; }
        return get("/api/v1/users/" + encodeURIComponent(id)).then(function (u) { emails[id] = u ? u.email : id; return emails[id]; });
      })).then(function (names) {
        while (list.firstChild) { list.removeChild(list.firstChild); }
        names.forEach(function (n) { var li = document.createElement("li"); li.textContent = n; list.appendChild(li); });
      });
    }).catch(function () {}).then(function () { setTimeout(refresh, 2000); });
  }
  setTimeout(refresh, 2000);
})();
