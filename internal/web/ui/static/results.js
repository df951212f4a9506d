// Operation results: paging, sorting, column choice and CSV/JSON download
// for the "Run an operation" panel. The server renders every row (that is
// what a browser without JavaScript shows); this module takes the result's
// JSON from the page (or from app.js after a run through the API) and
// shows it a page at a time. Downloads are made here, from the whole
// result, so they need no second run of the operation (a write cannot be
// run twice).
(function () {
  "use strict";

  var PAGE_SIZES = [25, 50, 100];
  var KEY = "tenantlink.results.";

  function cellText(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "boolean") return v ? "Yes" : "No";
    if (Array.isArray(v)) return v.map(cellText).join(", ");
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }

  // csvCell is one CSV field (RFC 4180: quoted when it holds a quote, a
  // comma or a line break, quotes doubled). A value a spreadsheet would
  // run as a formula — starting with = + - @, or a tab or carriage return —
  // gets a leading apostrophe, as OWASP's CSV injection advice says.
  function csvCell(v) {
    var s = cellText(v);
    if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
    if (/[",\r\n]/.test(s) || /^\s|\s$/.test(s)) s = '"' + s.replace(/"/g, '""') + '"';
    return s;
  }

  // toCSV is the header line of labels and one line per item, CRLF line
  // ends, with a byte-order mark so spreadsheets read it as UTF-8.
  function toCSV(cols, items) {
    var lines = [cols.map(function (c) { return csvCell(c.label); }).join(",")];
    items.forEach(function (it) {
      lines.push(cols.map(function (c) { return csvCell(it[c.name]); }).join(","));
    });
    return "\ufeff" + lines.join("\r\n") + "\r\n";
  }

  // compare orders values of one column: numbers by value, text in the
  // reader's collation with digits as numbers, empty values last.
  var collator = typeof Intl !== "undefined" ? new Intl.Collator(undefined, { numeric: true, sensitivity: "base" }) : null;
  function compare(a, b) {
    var ea = a === null || a === undefined || a === "", eb = b === null || b === undefined || b === "";
    if (ea || eb) return ea === eb ? 0 : (ea ? 1 : -1);
    if (typeof a === "number" && typeof b === "number") return a - b;
    var sa = cellText(a), sb = cellText(b);
    return collator ? collator.compare(sa, sb) : (sa < sb ? -1 : sa > sb ? 1 : 0);
  }

  function load(name, fallback) {
    try {
      var v = window.localStorage.getItem(KEY + name);
      return v === null ? fallback : JSON.parse(v);
    } catch (e) { return fallback; }
  }
  function save(name, v) {
    try { window.localStorage.setItem(KEY + name, JSON.stringify(v)); } catch (e) { /* private mode */ }
  }

  function fileName(label, ext) {
    var base = String(label || "results").replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "").toLowerCase() || "results";
    var d = new Date();
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return base + "-" + d.getFullYear() + pad(d.getMonth() + 1) + pad(d.getDate()) + "-" + pad(d.getHours()) + pad(d.getMinutes()) + "." + ext;
  }

  function download(name, type, text) {
    var url = URL.createObjectURL(new Blob([text], { type: type }));
    var a = document.createElement("a");
    a.href = url;
    a.download = name;
    a.hidden = true;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(url); a.remove(); }, 10000);
  }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // enhance turns the results table into a paged, sortable one with
  // column choice and downloads. items are the result's items, cols the
  // declared outputs ({name, label, wrap}); op names the operation, whose
  // column choice is remembered in localStorage.
  function enhance(table, items, cols, op, label) {
    if (!table || table.getAttribute("data-enhanced") === "true") return;
    table.setAttribute("data-enhanced", "true");
    var scroll = table.closest(".table-scroll") || table;
    var hidden = load("columns." + op, []);
    if (!Array.isArray(hidden)) hidden = [];
    var size = Number(load("pageSize", 25));
    if (PAGE_SIZES.indexOf(size) < 0 && size !== 0) size = 25;
    var state = { key: null, dir: 1, page: 0 };

    function visible() {
      var v = cols.filter(function (c) { return hidden.indexOf(c.name) < 0; });
      return v.length ? v : cols.slice(0, 1);
    }

    // Tools: rows per page, columns, downloads.
    var tools = el("div", { "class": "op-tools", id: "op-tools" });
    var sizeLabel = el("label", { "for": "op-page-size" }, "Rows per page");
    var sizeSelect = el("select", { id: "op-page-size" });
    PAGE_SIZES.concat([0]).forEach(function (n) {
      var o = el("option", { value: String(n) }, n ? String(n) : "All");
      if (n === size) o.selected = true;
      sizeSelect.appendChild(o);
    });
    sizeSelect.addEventListener("change", function () {
      size = Number(sizeSelect.value);
      save("pageSize", size);
      state.page = 0;
      render();
    });
    var columns = el("details", { "class": "op-columns", id: "op-columns" });
    columns.appendChild(el("summary", {}, "Columns"));
    var list = el("fieldset", {});
    list.appendChild(el("legend", { "class": "visually-hidden" }, "Columns to show"));
    cols.forEach(function (c) {
      var id = "op-col-" + c.name;
      var wrap = el("div", { "class": "check" });
      var box = el("input", { type: "checkbox", id: id, "data-col": c.name });
      box.checked = hidden.indexOf(c.name) < 0;
      box.addEventListener("change", function () {
        hidden = hidden.filter(function (n) { return n !== c.name; });
        if (!box.checked) hidden.push(c.name);
        save("columns." + op, hidden);
        render();
      });
      wrap.appendChild(box);
      wrap.appendChild(el("label", { "for": id }, c.label));
      list.appendChild(wrap);
    });
    columns.appendChild(list);
    var csv = el("button", { type: "button", id: "op-csv" }, "Download CSV");
    csv.addEventListener("click", function () {
      download(fileName(label, "csv"), "text/csv;charset=utf-8", toCSV(visible(), sorted()));
    });
    var json = el("button", { type: "button", id: "op-json" }, "Download JSON");
    json.addEventListener("click", function () {
      download(fileName(label, "json"), "application/json", JSON.stringify(sorted(), null, 2) + "\n");
    });
    var sizeWrap = el("span", { "class": "op-page-size" });
    sizeWrap.appendChild(sizeLabel);
    sizeWrap.appendChild(sizeSelect);
    tools.appendChild(sizeWrap);
    tools.appendChild(columns);
    tools.appendChild(csv);
    tools.appendChild(json);
    scroll.parentNode.insertBefore(tools, scroll);

    // Pager below the table.
    var pager = el("nav", { "class": "op-pager", id: "op-pager", "aria-label": "Result pages" });
    var prev = el("button", { type: "button", id: "op-prev" }, "Previous");
    var where = el("span", { id: "op-page", "aria-live": "polite" });
    var next = el("button", { type: "button", id: "op-next" }, "Next");
    prev.addEventListener("click", function () { state.page--; render(); });
    next.addEventListener("click", function () { state.page++; render(); });
    pager.appendChild(prev);
    pager.appendChild(where);
    pager.appendChild(next);
    scroll.parentNode.insertBefore(pager, scroll.nextSibling);

    function sorted() {
      var idx = items.map(function (_, i) { return i; });
      if (state.key !== null) {
        idx.sort(function (a, b) {
          return compare(items[a][state.key], items[b][state.key]) * state.dir || a - b;
        });
      }
      return idx.map(function (i) { return items[i]; });
    }

    function render() {
      var cs = visible();
      var all = sorted();
      var per = size || all.length || 1;
      var pages = Math.max(1, Math.ceil(all.length / per));
      state.page = Math.min(Math.max(state.page, 0), pages - 1);
      var from = state.page * per, to = Math.min(from + per, all.length);

      var head = table.tHead.rows[0];
      head.textContent = "";
      cs.forEach(function (c) {
        var th = el("th", { scope: "col", "data-col": c.name });
        if (c.wrap) th.className = c.wrap;
        var sort = state.key === c.name ? (state.dir > 0 ? "ascending" : "descending") : "none";
        th.setAttribute("aria-sort", sort);
        var b = el("button", { type: "button", "class": "op-sort", "data-col": c.name }, c.label);
        b.addEventListener("click", function () {
          if (state.key === c.name) state.dir = -state.dir;
          else { state.key = c.name; state.dir = 1; }
          state.page = 0;
          render();
        });
        th.appendChild(b);
        head.appendChild(th);
      });
      var body = table.tBodies[0];
      body.textContent = "";
      all.slice(from, to).forEach(function (it) {
        var tr = body.insertRow();
        if (it.error) tr.className = "row-error";
        cs.forEach(function (c) {
          var td = tr.insertCell();
          if (c.wrap) td.className = c.wrap;
          td.textContent = cellText(it[c.name]);
        });
      });
      pager.hidden = pages < 2;
      prev.disabled = state.page === 0;
      next.disabled = state.page >= pages - 1;
      where.textContent = "Page " + (state.page + 1) + " of " + pages + " (rows " + (all.length ? from + 1 : 0) + "–" + to + " of " + all.length + ")";
    }
    render();
  }

  // fromPage enhances a table the server rendered, with the result JSON
  // next to it.
  function fromPage() {
    var table = document.getElementById("op-results");
    var data = document.getElementById("op-items");
    if (!table || !data) return;
    var items, cols;
    try {
      items = JSON.parse(data.textContent || "[]");
      cols = JSON.parse(table.getAttribute("data-outputs") || "[]");
    } catch (e) { return; }
    enhance(table, items, cols, table.getAttribute("data-op"), table.getAttribute("data-label"));
  }

  window.tenantlinkResults = { enhance: enhance, fromPage: fromPage, csvCell: csvCell, toCSV: toCSV };
  fromPage();
  // app.js swaps the panel or renders a fresh result without a reload.
  document.addEventListener("tenantlink:results", fromPage);
})();
