// tenantlink's page behaviour. Everything here enhances a page that also
// works without JavaScript: the delete confirmation, the Security dialog,
// the "Run an operation" panel (chooser and results without a reload,
// OK/Cancel before a write) and the Authorize popup (which falls back to a
// full-window redirect).
(function () {
  "use strict";

  // Controls that only the no-JavaScript flow needs hide under html.js.
  document.documentElement.classList.add("js");

  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.content : "";
  }

  // notify shows one notification at the top of the page: role=alert for
  // errors so screen readers interrupt, role=status otherwise.
  function notify(message, isError) {
    var box = document.getElementById("notifications");
    if (!box) return;
    box.textContent = "";
    var p = document.createElement("p");
    p.className = "notice" + (isError ? " notice-error" : "");
    p.setAttribute("role", isError ? "alert" : "status");
    p.textContent = message;
    box.appendChild(p);
  }

  // api calls the JSON API with the session's CSRF token and turns its
  // error body into an Error carrying the server's message.
  function api(method, path, body, signal) {
    var opts = { method: method, credentials: "same-origin", headers: { "Accept": "application/json", "X-CSRF-Token": csrf() } };
    if (signal) opts.signal = signal;
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(path, opts).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
        if (!res.ok) {
          var msg = data && data.error && data.error.message ? data.error.message : "Request failed (" + res.status + ").";
          var err = new Error(msg);
          // A partial operation result carries its items with the error.
          err.items = data && data.items ? data.items : null;
          throw err;
        }
        return data;
      });
    });
  }

  // Buttons that ask first (a data source's Bin, an API token's Revoke):
  // without JavaScript they open the confirmation page (a GET form); with
  // it, OK/Cancel on data-confirm's question, then the same POST the
  // confirmation page makes (to data-action).
  document.querySelectorAll("form.js-confirm").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (!window.confirm(form.getAttribute("data-confirm"))) return;
      var post = document.createElement("form");
      post.method = "post";
      post.action = form.getAttribute("data-action");
      var t = document.createElement("input");
      t.type = "hidden"; t.name = "csrf"; t.value = csrf();
      post.appendChild(t);
      document.body.appendChild(post);
      post.submit();
    });
  });

  // Security dialog on the details page.
  var dialog = document.getElementById("security-dialog");
  var openSecurity = document.getElementById("security-open");
  if (dialog && openSecurity && typeof dialog.showModal === "function") {
    openSecurity.addEventListener("click", function (ev) {
      ev.preventDefault();
      dialog.showModal();
    });
    dialog.querySelectorAll("[data-close-dialog]").forEach(function (b) {
      b.addEventListener("click", function () { dialog.close(); });
    });
  }

  // "Run an operation" panel. Listeners sit on the document because the
  // chooser swaps the whole panel for the server's rendering of it.
  function opPanel() { return document.getElementById("operation-panel"); }

  // Choosing an operation fetches the page the no-JavaScript GET form
  // would load and swaps in its panel, so the inputs come from the same
  // template either way.
  document.addEventListener("change", function (ev) {
    var select = ev.target;
    if (!select || select.id !== "op-select") return;
    var u = new URL(select.form.action, location.href);
    u.hash = "";
    u.search = select.value ? "?op=" + encodeURIComponent(select.value) : "";
    fetch(u.toString(), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (res) {
        if (!res.ok) throw new Error("Could not load the operation's inputs (" + res.status + ").");
        return res.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("operation-panel");
        var here = opPanel();
        if (!fresh || !here) return;
        here.replaceWith(document.importNode(fresh, true));
        history.replaceState(null, "", location.pathname + u.search + "#operation-panel");
        var again = document.getElementById("op-select");
        if (again) again.focus();
      })
      .catch(function (err) { notify(err.message, true); });
  });

  // opInputs reads the form the way the server's no-JavaScript handler
  // does: empty fields are not given; user and list inputs go as the text
  // typed, which the server splits at new lines, commas and semicolons
  // (the one rule the API, processes and the CLI share).
  function opInputs(form) {
    var inputs = {};
    form.querySelectorAll("[data-input]").forEach(function (el) {
      var name = el.getAttribute("data-input"), type = el.getAttribute("data-type");
      if (type === "boolean") { inputs[name] = el.checked; return; }
      var v = el.value.trim();
      if (v === "") return;
      if (type === "users" || type === "list") {
        inputs[name] = v;
      } else if (type === "integer" && /^\d+$/.test(v)) {
        inputs[name] = Number(v);
      } else {
        inputs[name] = v; // the operation validates it and explains
      }
    });
    return inputs;
  }

  function opCell(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "boolean") return v ? "Yes" : "No";
    if (Array.isArray(v)) return v.map(opCell).join(", ");
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }

  // showOpResult renders what the server renders after a POST: the
  // refusal, or the count and a table whose columns are the declared
  // outputs.
  function showOpResult(form, items, error) {
    var box = document.getElementById("op-result");
    if (!box) return;
    box.textContent = "";
    if (error) {
      var p = document.createElement("p");
      p.className = "notice notice-error";
      p.id = "op-error";
      p.setAttribute("role", "alert");
      p.textContent = error;
      box.appendChild(p);
      if (!items || !items.length) return;
    }
    var count = document.createElement("p");
    count.className = "op-count";
    count.id = "op-count";
    count.setAttribute("role", "status");
    count.textContent = items.length + " item(s)";
    box.appendChild(count);
    if (!items.length) return;
    var cols = JSON.parse(form.getAttribute("data-outputs") || "[]");
    var wrap = document.createElement("div");
    wrap.className = "table-scroll";
    wrap.setAttribute("role", "region");
    wrap.setAttribute("aria-labelledby", "op-results-caption");
    wrap.tabIndex = 0;
    var table = document.createElement("table");
    table.className = "list op-results";
    table.id = "op-results";
    table.setAttribute("data-op", form.getAttribute("data-op"));
    table.setAttribute("data-label", form.getAttribute("data-label"));
    table.setAttribute("data-outputs", form.getAttribute("data-outputs") || "[]");
    var caption = table.createCaption();
    caption.id = "op-results-caption";
    caption.textContent = form.getAttribute("data-label") + ": results";
    var head = table.createTHead().insertRow();
    cols.forEach(function (c) {
      var th = document.createElement("th");
      th.scope = "col";
      if (c.wrap) th.className = c.wrap;
      th.textContent = c.label;
      head.appendChild(th);
    });
    var body = table.createTBody();
    items.forEach(function (it) {
      var tr = body.insertRow();
      if (it.error) tr.className = "row-error";
      cols.forEach(function (c) {
        var td = tr.insertCell();
        if (c.wrap) td.className = c.wrap;
        td.textContent = opCell(it[c.name]);
      });
    });
    wrap.appendChild(table);
    box.appendChild(wrap);
    if (window.tenantlinkResults) {
      window.tenantlinkResults.enhance(table, items, cols, form.getAttribute("data-op"), form.getAttribute("data-label"));
    }
  }

  // running shows that an operation runs: a spinner, the time it has
  // taken so far (hidden from screen readers, which would announce every
  // second; they hear "Running…" once), and Cancel. It returns the
  // function that ends it.
  function running(onCancel) {
    var box = document.getElementById("op-running");
    var text = document.getElementById("op-elapsed");
    var cancel = document.getElementById("op-cancel");
    var started = Date.now();
    var tick = function () {
      var s = Math.floor((Date.now() - started) / 1000);
      if (text) text.textContent = s + " s";
    };
    tick();
    var timer = setInterval(tick, 1000);
    if (box) box.hidden = false;
    var click = function () { onCancel(); };
    if (cancel) {
      cancel.hidden = false;
      cancel.disabled = false;
      cancel.addEventListener("click", click);
    }
    return function () {
      clearInterval(timer);
      if (box) box.hidden = true;
      if (cancel) {
        cancel.hidden = true;
        cancel.removeEventListener("click", click);
      }
    };
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form || form.id !== "op-run") return;
    ev.preventDefault();
    var panel = opPanel();
    var label = form.getAttribute("data-label");
    if (form.getAttribute("data-write") === "true" &&
        !window.confirm("Run \u201c" + label + "\u201d on \u201c" + panel.getAttribute("data-name") + "\u201d? It changes Office 365.")) {
      return;
    }
    var button = document.getElementById("op-run-button");
    var box = document.getElementById("op-result");
    if (button) button.disabled = true;
    if (box) box.setAttribute("aria-busy", "true");
    var path = "/api/v1/datasources/" + encodeURIComponent(panel.getAttribute("data-datasource")) +
      "/operations/" + encodeURIComponent(form.getAttribute("data-op"));
    // Cancel aborts the request; the server stops the operation when the
    // request goes away (its context is the request's).
    var abort = typeof AbortController === "function" ? new AbortController() : null;
    var cancelled = false;
    var done = running(function () {
      cancelled = true;
      if (abort) abort.abort();
    });
    api("POST", path, { inputs: opInputs(form) }, abort && abort.signal)
      .then(function (res) { showOpResult(form, (res && res.items) || [], null); })
      .catch(function (err) {
        if (cancelled) {
          var msg = "Cancelled: tenantlink stopped waiting and stopped the operation.";
          if (form.getAttribute("data-write") === "true") msg += " Changes already sent to Office 365 stay made: run a read operation to see where it got to.";
          showOpResult(form, null, msg);
          return;
        }
        showOpResult(form, err.items, err.message);
      })
      .then(function () {
        done();
        if (button) button.disabled = false;
        if (box) box.removeAttribute("aria-busy");
      });
  });

  // Authorize popup on the details page.
  var form = document.getElementById("ds-form");
  var authorize = document.getElementById("authorize-button");
  if (!form || !authorize) return;

  function settings() {
    var mode = form.querySelector('input[name="authMode"]:checked');
    return {
      readWrite: form.elements.readWrite.checked,
      singleSignOn: form.elements.singleSignOn.checked,
      authMode: mode ? mode.value : "delegated"
    };
  }

  // ensureSaved creates a new data source, or saves the settings the grant
  // depends on (read/write scopes, mode) when they differ from the stored
  // ones. Other edits stay unsaved in the form until Save.
  function ensureSaved() {
    var id = form.getAttribute("data-id");
    var s = settings();
    if (!id) {
      return api("POST", "/api/v1/datasources", { name: form.elements.name.value, type: form.getAttribute("data-type"), settings: s })
        .then(function (ds) {
          form.setAttribute("data-id", ds.id);
          form.action = "/datasources/" + ds.id;
          remember(ds);
          history.replaceState(null, "", "/datasources/" + ds.id);
          return ds.id;
        });
    }
    if (String(s.readWrite) === form.getAttribute("data-saved-readwrite") && s.authMode === form.getAttribute("data-saved-authmode")) {
      return Promise.resolve(id);
    }
    return api("PATCH", "/api/v1/datasources/" + id, { settings: { readWrite: s.readWrite, authMode: s.authMode } })
      .then(function (ds) { remember(ds); return id; });
  }

  function remember(ds) {
    form.setAttribute("data-saved-readwrite", String(ds.settings.readWrite));
    form.setAttribute("data-saved-authmode", ds.settings.authMode);
  }

  authorize.addEventListener("click", function (ev) {
    ev.preventDefault();
    if (!form.reportValidity()) return;
    // Opened synchronously inside the click so popup blockers allow it;
    // its address is set once the server has prepared the sign-in.
    var popup = window.open("", "tenantlink-authorize", "width=520,height=680");
    if (!popup) {
      form.requestSubmit(authorize); // blocked: go the no-JavaScript way
      return;
    }
    ensureSaved()
      .then(function (id) { return api("POST", "/api/v1/datasources/" + id + "/authorize"); })
      .then(function (res) { popup.location.href = res.url; })
      .catch(function (err) {
        popup.close();
        notify(err.message, true);
      });
  });

  // refreshStatus re-reads the page and swaps in only the status panel and
  // the Authorize label, so edits in the form survive.
  function refreshStatus() {
    var id = form.getAttribute("data-id");
    if (!id) return Promise.resolve();
    return fetch("/datasources/" + id, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (res) { return res.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var panel = doc.getElementById("ds-status-panel");
        var here = document.getElementById("ds-status-panel");
        if (panel && here) here.replaceWith(document.importNode(panel, true));
        var label = doc.getElementById("authorize-label");
        if (label) authorize.textContent = label.textContent;
        // The operations panel appears as soon as the data source exists
        // and may be used: a new one had none when the page was drawn.
        var freshPanel = doc.getElementById("operation-panel");
        if (freshPanel && !opPanel()) {
          form.parentNode.insertBefore(document.importNode(freshPanel, true), form.nextSibling);
          document.dispatchEvent(new Event("tenantlink:results"));
        }
      });
  }

  window.addEventListener("message", function (ev) {
    if (ev.origin !== location.origin) return;
    var d = ev.data;
    if (!d || d.type !== "tenantlink-authorize") return;
    notify(String(d.message || (d.ok ? "Authorized." : "Authorization failed.")), !d.ok);
    refreshStatus().catch(function (err) { notify(err.message, true); });
  });
})();
