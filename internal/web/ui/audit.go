package ui

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/web"
)

type auditData struct {
	Entries []auditRow
	// Filter is the filter form as submitted.
	Filter struct{ Actor, Action, Target, Outcome, From, To string }
	// All says whether the viewer reads everyone's entries (an
	// Administrator) or only their own.
	All bool
	// NewerURL, OlderURL and NewestURL page through the entries.
	NewerURL, OlderURL, NewestURL string
}

type auditRow struct {
	*tenantlink.AuditEntry
	// TargetURL links the page of a user, group, data source, process or
	// task target
	// that still exists (an Administrator's view only); TargetName is its
	// name today.
	TargetURL, TargetName string
	// TargetGone: the target was a user, group or data source that no
	// longer exists, shown as its id without a link.
	TargetGone bool
}

// outcomes are the audit outcomes the filter offers.
var outcomes = []string{"ok", "denied", "failed"}

// showAudit is the audit log: newest first, 50 a page, filtered like
// GET /api/v1/audit. Administrators read every entry; anyone else their
// own (directory.Service.ListAudit decides).
func (h *handler) showAudit(w http.ResponseWriter, r *http.Request) error {
	pr := web.PrincipalFrom(r.Context())
	q := r.URL.Query()
	d := auditData{All: pr.Has(tenantlink.RoleAdministrator)}
	d.Filter.Actor, d.Filter.Action, d.Filter.Target = q.Get("actor"), q.Get("action"), q.Get("target")
	d.Filter.Outcome, d.Filter.From, d.Filter.To = q.Get("outcome"), q.Get("from"), q.Get("to")
	f, err := web.AuditFilterFromQuery(q)
	var ns []notice
	if err != nil {
		if !fieldError(err) {
			return err
		}
		// Show the form back with the error rather than an error page.
		p := h.newPage(r, "Audit log", "audit", d)
		p.Notify(tenantlink.ErrorMessage(err), true)
		return h.render(w, http.StatusBadRequest, "audit", p)
	}
	f.Limit = perPage + 1
	es, err := h.Audit.ListAudit(r.Context(), pr, f)
	if err != nil {
		return err
	}
	more := len(es) > perPage
	var hasNewer, hasOlder bool
	switch {
	case f.AfterID > 0:
		// The closest newer entries: a further one means a newer page.
		if more {
			es = es[1:]
		}
		hasNewer, hasOlder = more, true
	default:
		if more {
			es = es[:perPage]
		}
		hasNewer, hasOlder = f.BeforeID > 0, more
	}
	rows, err := h.auditRows(r, es, d.All)
	if err != nil {
		return err
	}
	d.Entries = rows
	q.Del("before")
	q.Del("after")
	if hasNewer && len(es) > 0 {
		d.NewerURL = withQuery("/audit", q, "after", strconv.FormatInt(es[0].ID, 10))
		d.NewestURL = withQuery("/audit", q)
	}
	if hasOlder && len(es) > 0 {
		d.OlderURL = withQuery("/audit", q, "before", strconv.FormatInt(es[len(es)-1].ID, 10))
	}
	title := "Audit log"
	p := h.newPage(r, title, "audit", d)
	p.Notices = ns
	return h.render(w, http.StatusOK, "audit", p)
}

// auditRows links each entry's target to its page while it exists, for
// an Administrator (nobody else may open those pages): which targets exist
// is asked once for the whole page (directory.Service.AuditTargets).
func (h *handler) auditRows(r *http.Request, es []*tenantlink.AuditEntry, admin bool) ([]auditRow, error) {
	rows := make([]auditRow, len(es))
	for i, e := range es {
		rows[i].AuditEntry = e
	}
	if !admin || len(es) == 0 {
		return rows, nil
	}
	targets := make([]string, len(es))
	for i, e := range es {
		targets[i] = e.Target
	}
	known, err := h.Audit.AuditTargets(r.Context(), web.PrincipalFrom(r.Context()), targets)
	if err != nil {
		return nil, err
	}
	for i, e := range es {
		t, ok := known[e.Target]
		switch {
		case !ok:
		case t.Exists:
			rows[i].TargetURL, rows[i].TargetName = targetURL(t.Kind, t.ID), t.Name
		default:
			rows[i].TargetGone = true
		}
	}
	return rows, nil
}

// targetURL is the page of a user, group, data source, process or
// scheduled task.
func targetURL(kind, id string) string {
	if strings.ContainsAny(id, "/?#@") {
		return ""
	}
	switch kind {
	case "user":
		return "/users/" + id
	case "group":
		return "/groups/" + id + "/edit"
	case "datasource":
		return "/datasources/" + id
	case "process":
		return "/processes/" + id
	case "task":
		return "/tasks" // the list: a task has no page of its own
	}
	return ""
}
