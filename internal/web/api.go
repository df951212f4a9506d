package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/datasource"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/store"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, map[string]string{"status": "ok"})
}

func (s *Server) noAPIPath(w http.ResponseWriter, r *http.Request) error {
	return tenantlink.Errorf(tenantlink.ENOTFOUND, "no API path %s %s (see /api/v1/openapi.json)", r.Method, r.URL.Path)
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ping != nil {
		if err := s.cfg.Ping(r.Context()); err != nil {
			s.cfg.Logger.Warn("not ready", "err", err)
			writeJSON(w, 503, map[string]string{"status": "database unavailable"})
			return
		}
	}
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(r.Context()); err != nil {
			writeJSON(w, 503, map[string]string{"status": err.Error()})
			return
		}
	}
	writeJSON(w, 200, map[string]string{"status": "ready"})
}

func principal(r *http.Request) *tenantlink.Principal { return PrincipalFrom(r.Context()) }

type sessionOut struct {
	User      *tenantlink.User `json:"user"`
	CSRFToken string           `json:"csrfToken,omitempty"`
}

func (s *Server) postSession(w http.ResponseWriter, r *http.Request) error {
	if err := checkJSONSignIn(r); err != nil {
		return err
	}
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Email == "" || in.Password == "" {
		return tenantlink.Errorf(tenantlink.EINVALID, "email and password are required")
	}
	u, err := s.cfg.Directory.SignIn(r.Context(), in.Email, in.Password, ClientAddr(r))
	if err != nil {
		return err
	}
	sess, err := s.StartSession(w, r, u)
	if err != nil {
		return err
	}
	if err := s.cfg.Directory.AuditSignIn(r.Context(), u, ClientAddr(r)); err != nil {
		return err
	}
	return WriteJSON(w, 200, sessionOut{User: u, CSRFToken: sess.CSRFToken})
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request) error {
	return WriteJSON(w, 200, sessionOut{User: principal(r).User, CSRFToken: CSRFToken(r.Context())})
}

func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) error {
	if err := s.EndSession(w, r); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) postToken(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name          string `json:"name"`
		ExpiresInDays *int   `json:"expiresInDays"`
	}
	if r.ContentLength != 0 {
		if err := DecodeJSON(w, r, &in); err != nil {
			return err
		}
	}
	ti := directory.TokenInput{Name: in.Name}
	if in.ExpiresInDays != nil {
		if *in.ExpiresInDays < 1 {
			return tenantlink.Errorf(tenantlink.EINVALID, "expiresInDays must be between 1 and %d (leave it out for a token that does not expire)", directory.MaxTokenDays)
		}
		ti.ExpiresInDays = *in.ExpiresInDays
	}
	raw, t, err := s.cfg.Directory.IssueToken(r.Context(), principal(r), ti)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/tokens/"+t.ID)
	type created struct {
		Secret string `json:"token"`
		*directory.Token
	}
	return WriteJSON(w, 201, created{raw, t})
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	list, err := s.cfg.Directory.ListTokens(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, map[string]any{"value": list})
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request) error {
	if err := s.cfg.Directory.RevokeToken(r.Context(), principal(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getConnectors(w http.ResponseWriter, r *http.Request) error {
	return WriteJSON(w, 200, map[string]any{"value": s.cfg.DataSources.Catalogue()})
}

// DataSourceView is a data source as the API shows it.
type DataSourceView struct {
	*tenantlink.DataSource
	ReminderDue bool `json:"reminderDue"`
}

func (s *Server) view(ds *tenantlink.DataSource) DataSourceView {
	return DataSourceView{DataSource: ds, ReminderDue: datasource.ReminderDue(ds, s.cfg.Now())}
}

func (s *Server) listDataSources(w http.ResponseWriter, r *http.Request) error {
	all, err := s.cfg.DataSources.List(r.Context(), principal(r), r.URL.Query().Get("search"))
	if err != nil {
		return err
	}
	out := make([]DataSourceView, 0, len(all))
	for _, ds := range all {
		out = append(out, s.view(ds))
	}
	return WriteJSON(w, 200, map[string]any{"value": out})
}

func (s *Server) createDataSource(w http.ResponseWriter, r *http.Request) error {
	var in datasource.Input
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	ds, err := s.cfg.DataSources.Create(r.Context(), principal(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/datasources/"+ds.ID)
	return WriteJSON(w, 201, s.view(ds))
}

func (s *Server) getDataSource(w http.ResponseWriter, r *http.Request) error {
	ds, err := s.cfg.DataSources.Get(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, s.view(ds))
}

func (s *Server) patchDataSource(w http.ResponseWriter, r *http.Request) error {
	var in datasource.Input
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	ds, err := s.cfg.DataSources.Update(r.Context(), principal(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, s.view(ds))
}

// deleteDataSource deletes a data source. While something uses it, the
// answer is 409 with the usual error plus the dependents:
// {"error":{"code":"conflict","message":"…","dependents":[{"kind":"sso"|"groupSync"|"task"|"process","id":"…","name":"…"}]}};
// ?force=true deletes it anyway and detaches them (see datasource.Delete).
func (s *Server) deleteDataSource(w http.ResponseWriter, r *http.Request) error {
	var force bool
	switch v := r.URL.Query().Get("force"); v {
	case "", "false":
	case "true":
		force = true
	default:
		return tenantlink.Errorf(tenantlink.EINVALID, "force must be true or false, not %q", v)
	}
	if err := s.cfg.DataSources.Delete(r.Context(), principal(r), r.PathValue("id"), force); err != nil {
		if deps, ok := datasource.AsInUse(err); ok {
			var b struct {
				Error struct {
					Code       string                 `json:"code"`
					Message    string                 `json:"message"`
					Dependents []datasource.Dependent `json:"dependents"`
				} `json:"error"`
			}
			b.Error.Code, b.Error.Message, b.Error.Dependents = tenantlink.ErrorCode(err), tenantlink.ErrorMessage(err), deps
			return WriteJSON(w, Status(b.Error.Code), b)
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) authorizeDataSource(w http.ResponseWriter, r *http.Request) error {
	u, err := s.cfg.DataSources.Authorize(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, map[string]string{"url": u})
}

func (s *Server) testDataSource(w http.ResponseWriter, r *http.Request) error {
	res, err := s.cfg.DataSources.Test(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, res)
}

func (s *Server) getSecurity(w http.ResponseWriter, r *http.Request) error {
	sec, err := s.cfg.DataSources.GetSecurity(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, sec)
}

func (s *Server) putSecurity(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Admins  *[]string `json:"admins"`
		Users   *[]string `json:"users"`
		Writers []string  `json:"writers"` // optional: absent means none
	}
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Admins == nil || in.Users == nil {
		return tenantlink.Errorf(tenantlink.EINVALID, "both admins and users are required (use [] for none)")
	}
	sec, err := s.cfg.DataSources.PutSecurity(r.Context(), principal(r), r.PathValue("id"), tenantlink.Security{Admins: *in.Admins, Users: *in.Users, Writers: in.Writers})
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, sec)
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := store.UserFilter{Search: q.Get("search"), DataSource: q.Get("datasource"), Sort: q.Get("sort")}
	if f.Sort != "" && f.Sort != "email" && f.Sort != "name" {
		return tenantlink.Errorf(tenantlink.EINVALID, "sort must be email or name, not %q", f.Sort)
	}
	var err error
	if f.Limit, err = queryLimit(q, f.Limit, 1000); err != nil {
		return err
	}
	if o := q.Get("offset"); o != "" {
		n, err := strconv.Atoi(o)
		if err != nil || n < 0 {
			return tenantlink.Errorf(tenantlink.EINVALID, "offset must be a whole number of users to skip, not %q", o)
		}
		if f.Limit == 0 {
			return tenantlink.Errorf(tenantlink.EINVALID, "offset needs a limit")
		}
		f.Offset = n
	}
	us, err := s.cfg.Directory.ListUsers(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, map[string]any{"value": us})
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	var in directory.UserInput
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	u, err := s.cfg.Directory.CreateUser(r.Context(), principal(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/users/"+u.ID)
	return WriteJSON(w, 201, u)
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := s.cfg.Directory.GetUser(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, u)
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request) error {
	var in directory.UserInput
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	ctx := r.Context()
	if sess := SessionFrom(ctx); sess != nil {
		ctx = directory.KeepSession(ctx, sess.IDHash)
	}
	u, err := s.cfg.Directory.UpdateUser(ctx, principal(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, u)
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) error {
	if err := s.cfg.Directory.DeleteUser(r.Context(), principal(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) error {
	gs, err := s.cfg.Directory.ListGroups(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, map[string]any{"value": gs})
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) error {
	var in directory.GroupInput
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	g, err := s.cfg.Directory.CreateGroup(r.Context(), principal(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/groups/"+g.ID)
	return WriteJSON(w, 201, g)
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) error {
	g, err := s.cfg.Directory.GetGroup(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, g)
}

func (s *Server) patchGroup(w http.ResponseWriter, r *http.Request) error {
	var in directory.GroupInput
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	g, err := s.cfg.Directory.UpdateGroup(r.Context(), principal(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, g)
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	if err := s.cfg.Directory.DeleteGroup(r.Context(), principal(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	f, err := AuditFilterFromQuery(r.URL.Query())
	if err != nil {
		return err
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	es, err := s.cfg.Directory.ListAudit(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, map[string]any{"value": es})
}

// AuditFilterFromQuery reads the audit log's filters from query
// parameters, the same for the API and the audit page: actor (contains),
// action (prefix), target (exact), outcome, from and to (ISO 8601: a date,
// which is midnight UTC, or a date and time with a zone offset; to is
// exclusive, a bare date meaning the end of that day), before and after
// (entry ids, for paging) and limit (1–1000). Anything unreadable is
// EINVALID with the parameter named.
func AuditFilterFromQuery(q url.Values) (store.AuditFilter, error) {
	f := store.AuditFilter{
		Actor:   strings.TrimSpace(q.Get("actor")),
		Action:  strings.TrimSpace(q.Get("action")),
		Target:  strings.TrimSpace(q.Get("target")),
		Outcome: strings.TrimSpace(q.Get("outcome")),
	}
	for _, t := range []struct {
		name  string
		out   *time.Time
		isEnd bool
	}{{"from", &f.From, false}, {"to", &f.To, true}} {
		v := strings.TrimSpace(q.Get(t.name))
		if v == "" {
			continue
		}
		at, err := parseISOTime(v, t.isEnd)
		if err != nil {
			return f, tenantlink.Errorf(tenantlink.EINVALID, "%s must be an ISO 8601 date (2026-12-02) or date and time (2026-12-02T16:53:00Z), not %q", t.name, v)
		}
		*t.out = at
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, tenantlink.Errorf(tenantlink.EINVALID, "from must be before to")
	}
	for _, id := range []struct {
		name string
		out  *int64
	}{{"before", &f.BeforeID}, {"after", &f.AfterID}} {
		v := q.Get(id.name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return f, tenantlink.Errorf(tenantlink.EINVALID, "%s must be an audit entry id (a positive whole number), not %q", id.name, v)
		}
		*id.out = n
	}
	if f.BeforeID > 0 && f.AfterID > 0 {
		return f, tenantlink.Errorf(tenantlink.EINVALID, "use before or after, not both")
	}
	var err error
	if f.Limit, err = queryLimit(q, f.Limit, 1000); err != nil {
		return f, err
	}
	for name, v := range map[string]string{"actor": f.Actor, "action": f.Action, "target": f.Target, "outcome": f.Outcome} {
		if len(v) > 500 {
			return f, tenantlink.Errorf(tenantlink.EINVALID, "%s is longer than 500 characters", name)
		}
	}
	return f, nil
}

// parseISOTime reads an ISO 8601 date or date-time with an offset. A bare
// date is midnight UTC, or with isEnd the midnight after it, so that
// "to=2026-12-02" includes that whole day.
func parseISOTime(v string, isEnd bool) (time.Time, error) {
	if d, err := time.Parse(time.DateOnly, v); err == nil {
		if isEnd {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	return time.Parse(time.RFC3339Nano, v)
}

// queryLimit is q's ?limit from 1 to max, or def when there is none.
func queryLimit(q url.Values, def, max int) (int, error) {
	if v := q.Get("limit"); v != "" {
		return parseLimitMax(v, max)
	}
	return def, nil
}

// parseLimitMax reads a ?limit from 1 to max: the one limit parser.
func parseLimitMax(s string, max int) (int, error) {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' || n > 100000 {
			return 0, tenantlink.Errorf(tenantlink.EINVALID, "limit must be a whole number between 1 and %d", max)
		}
		n = n*10 + int(c-'0')
	}
	if n < 1 || n > max {
		return 0, tenantlink.Errorf(tenantlink.EINVALID, "limit must be a whole number between 1 and %d", max)
	}
	return n, nil
}

// oauthCallback is where Microsoft sends the popup back. It renders a small
// page that tells the opener (the data source page) and closes itself; with
// JavaScript off it shows the outcome and a link back.
func (s *Server) oauthCallback(w http.ResponseWriter, r *http.Request) error {
	res, err := s.cfg.DataSources.Callback(r.Context(), principal(r), r.URL.Query())
	if err != nil {
		if tenantlink.ErrorCode(err) == tenantlink.EINTERNAL {
			return err
		}
		res = &datasource.CallbackResult{OK: false, Message: tenantlink.ErrorMessage(err)}
	}
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		// API clients that drive the popup themselves read the outcome here.
		out := struct {
			OK         bool            `json:"ok"`
			Message    string          `json:"message"`
			DataSource *DataSourceView `json:"datasource,omitempty"`
		}{OK: res.OK, Message: res.Message}
		if res.DataSource != nil {
			v := s.view(res.DataSource)
			out.DataSource = &v
		}
		return WriteJSON(w, 200, out)
	}
	back := "/datasources"
	if res.DataSource != nil {
		back = "/datasources/" + res.DataSource.ID
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	return callbackPage.Execute(w, map[string]any{"OK": res.OK, "Message": res.Message, "Back": back})
}

var callbackPage = template.Must(template.New("cb").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorization {{if .OK}}complete{{else}}failed{{end}} – tenantlink</title>
<link rel="stylesheet" href="/static/app.css"><script src="/static/callback.js" defer></script></head>
<body class="callback"><main>
<h1>{{if .OK}}Authorization complete{{else}}Authorization failed{{end}}</h1>
<p id="result" role="status" data-ok="{{.OK}}" data-back="{{.Back}}">{{.Message}}</p>
<p><a href="{{.Back}}">Return to the data source</a></p>
</main></body></html>`))
