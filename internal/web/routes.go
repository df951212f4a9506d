package web

import (
	"fmt"
	"net/http"
	"strings"
)

// Kind says how a route answers, and so how it is wrapped.
type Kind string

const (
	// API is the JSON API: errors as {"error":{…}}, described in the
	// OpenAPI document.
	API Kind = "api"
	// Hook is called by other systems (webhooks, Microsoft Graph): JSON
	// errors, in the OpenAPI document.
	Hook Kind = "hook"
	// Browser is where browsers are sent (Microsoft's redirects back,
	// starting single sign-on): redirects and HTML errors.
	Browser Kind = "browser"
	// Page is an HTML page of packages ui, syncui and processui: HTML
	// errors, and anonymous GETs of a signed-in page go to the sign-in page.
	Page Kind = "page"
	// Asset is a static file, served as is.
	Asset Kind = "asset"
	// Probe is health, readiness and metrics, served as is.
	Probe Kind = "probe"
)

// Access says what a route needs before its handler runs.
type Access string

const (
	// SignedIn needs a session (with the CSRF token on unsafe methods) or
	// an API token; anonymous callers get 401, or the sign-in page.
	SignedIn Access = "signed-in"
	// Public needs nothing (the handler may still look at the caller).
	Public Access = "public"
	// Secret needs no sign-in: a credential of its own in the request (a
	// webhook's secret, Graph's clientState, the metrics token) is checked
	// by the handler.
	Secret Access = "secret"
)

// Route is one row of the route table: every path tenantlink serves is
// one, whichever package handles it, and Mount is the only way to serve
// one. The OpenAPI document is made from the rows with a Summary, the
// access matrix (internal/apitest) walks the rows that are not pages,
// assets or probes.
type Route struct {
	Method string // "" for every method (the /api/ fallback)
	Path   string // ServeMux pattern path, e.g. /api/v1/datasources/{id}
	Kind   Kind
	Access Access
	// Summary describes the route in the OpenAPI document; API and Hook
	// routes need one, pages, assets and probes have none.
	Summary string
	// Handler serves API, Hook, Browser and Page routes, behind
	// authentication, CSRF and the one error adapter.
	Handler func(w http.ResponseWriter, r *http.Request) error
	// Plain serves Asset and Probe routes as is.
	Plain http.Handler
}

// Pattern is the route's ServeMux pattern.
func (rt Route) Pattern() string {
	if rt.Method == "" {
		return rt.Path
	}
	return rt.Method + " " + rt.Path
}

// documented reports whether the route is in the OpenAPI document.
func (rt Route) documented() bool { return rt.Summary != "" }

// Mount serves the routes. It panics on a row that cannot be right (a
// handler missing for its kind, an API route without a summary, a path
// served twice), because the table is code, not input.
func (s *Server) Mount(routes ...Route) {
	for _, rt := range routes {
		if err := rt.check(); err != nil {
			panic(fmt.Sprintf("web: route %s: %v", rt.Pattern(), err))
		}
		s.routes = append(s.routes, rt)
		if s.kinds == nil {
			s.kinds = map[string]Kind{}
		}
		s.kinds[rt.Pattern()] = rt.Kind
		switch rt.Kind {
		case Asset, Probe:
			s.mux.Handle(rt.Pattern(), rt.Plain)
		default:
			s.mux.Handle(rt.Pattern(), s.wrap(rt.Path, rt.Access != SignedIn, rt.Kind == API || rt.Kind == Hook, rt.Handler))
		}
	}
}

func (rt Route) check() error {
	if !strings.HasPrefix(rt.Path, "/") {
		return fmt.Errorf("path must start with /")
	}
	switch rt.Access {
	case SignedIn, Public, Secret:
	default:
		return fmt.Errorf("unknown access %q", rt.Access)
	}
	switch rt.Kind {
	case API, Hook:
		if rt.Summary == "" && rt.Method != "" {
			return fmt.Errorf("%s routes need a summary for the OpenAPI document", rt.Kind)
		}
		fallthrough
	case Browser, Page:
		if rt.Handler == nil || rt.Plain != nil {
			return fmt.Errorf("%s routes take a Handler (and no Plain)", rt.Kind)
		}
	case Asset, Probe:
		if rt.Plain == nil || rt.Handler != nil || rt.Summary != "" {
			return fmt.Errorf("%s routes take a Plain handler (and no Handler or Summary)", rt.Kind)
		}
	default:
		return fmt.Errorf("unknown kind %q", rt.Kind)
	}
	if rt.Kind == Page && rt.Summary != "" {
		return fmt.Errorf("pages are not in the OpenAPI document: no summary")
	}
	return nil
}

// table is this package's part of the route table: the JSON API, the
// hooks, the browser routes of authorization and single sign-on, health,
// readiness and metrics. The pages are the tables of packages ui, syncui
// and processui (their Routes), mounted by package app; Server.Routes is
// the whole table.
func (s *Server) table() []Route {
	rs := []Route{
		{Method: "POST", Path: "/api/v1/session", Kind: API, Access: Public, Handler: s.postSession, Summary: "Sign in with email and password; returns the user and the CSRF token."},
		{Method: "GET", Path: "/api/v1/session", Kind: API, Access: SignedIn, Handler: s.getSession, Summary: "Who is signed in."},
		{Method: "DELETE", Path: "/api/v1/session", Kind: API, Access: SignedIn, Handler: s.deleteSession, Summary: "Sign out."},
		{Method: "POST", Path: "/api/v1/tokens", Kind: API, Access: SignedIn, Handler: s.postToken, Summary: "Create an API token for the signed-in user ({\"name\"?, \"expiresInDays\"?: 1–3650; left out: never expires}); the token is shown once."},
		{Method: "GET", Path: "/api/v1/tokens", Kind: API, Access: SignedIn, Handler: s.listTokens, Summary: "API tokens: your own; every user's for Administrators (never the secret)."},
		{Method: "DELETE", Path: "/api/v1/tokens/{id}", Kind: API, Access: SignedIn, Handler: s.deleteToken, Summary: "Revoke an API token: your own; anyone's for Administrators."},
		{Method: "GET", Path: "/api/v1/connectors", Kind: API, Access: SignedIn, Handler: s.getConnectors, Summary: "The connector catalogue."},
		{Method: "GET", Path: "/api/v1/datasources", Kind: API, Access: SignedIn, Handler: s.listDataSources, Summary: "List data sources (?search= matches name or type)."},
		{Method: "POST", Path: "/api/v1/datasources", Kind: API, Access: SignedIn, Handler: s.createDataSource, Summary: "Create a data source."},
		{Method: "GET", Path: "/api/v1/datasources/{id}", Kind: API, Access: SignedIn, Handler: s.getDataSource, Summary: "Read a data source. In this and every /api/v1/datasources/{id}/… path, {id} may be the data source's unique display name instead (URL-escaped, any case; an id wins)."},
		{Method: "PATCH", Path: "/api/v1/datasources/{id}", Kind: API, Access: SignedIn, Handler: s.patchDataSource, Summary: "Change a data source."},
		{Method: "DELETE", Path: "/api/v1/datasources/{id}", Kind: API, Access: SignedIn, Handler: s.deleteDataSource, Summary: "Delete a data source. While single sign-on, group syncs, scheduled tasks or processes use it: 409 with error.dependents [{kind, id, name}], unless ?force=true (which turns them off)."},
		{Method: "POST", Path: "/api/v1/datasources/{id}/authorize", Kind: API, Access: SignedIn, Handler: s.authorizeDataSource, Summary: "Start authorization; returns the URL to open in the popup."},
		{Method: "POST", Path: "/api/v1/datasources/{id}/test", Kind: API, Access: SignedIn, Handler: s.testDataSource, Summary: "Run the connection test."},
		{Method: "GET", Path: "/api/v1/datasources/{id}/security", Kind: API, Access: SignedIn, Handler: s.getSecurity, Summary: "Read the security settings."},
		{Method: "PUT", Path: "/api/v1/datasources/{id}/security", Kind: API, Access: SignedIn, Handler: s.putSecurity, Summary: "Replace the security settings: {\"admins\":[…],\"users\":[…],\"writers\":[…]} (user or group ids; writers optional, absent = none)."},
		{Method: "GET", Path: "/api/v1/datasources/{id}/operations", Kind: API, Access: SignedIn, Handler: s.listOperations, Summary: "The operations a data source offers, with their declared inputs and outputs."},
		{Method: "POST", Path: "/api/v1/datasources/{id}/operations/{name}", Kind: API, Access: SignedIn, Handler: s.runOperation, Summary: "Run an operation: {\"inputs\":{…}} → {\"items\":[…]}."},
		{Method: "GET", Path: "/api/v1/datasources/{id}/licences/report", Kind: API, Access: SignedIn, Handler: s.getLicenceReport, Summary: "Licence use per SKU with the reclaimable units and the users behind them; ?format=csv for a CSV of the figures, ?format=csv&users=true for one row per reclaimable user."},
		{Method: "POST", Path: "/api/v1/datasources/{id}/licences/reclaim", Kind: API, Access: SignedIn, Handler: s.reclaimLicences, Summary: "Remove the licences of disabled accounts the report counts as reclaimable (needs write permission); returns each user's result per SKU."},
		{Method: "GET", Path: "/api/v1/users", Kind: API, Access: SignedIn, Handler: s.listUsers, Summary: "List directory users (?search= matches name or email, ?datasource=, ?sort=email|name, ?limit= 1–1000 and ?offset= to page)."},
		{Method: "POST", Path: "/api/v1/users", Kind: API, Access: SignedIn, Handler: s.createUser, Summary: "Create a directory user."},
		{Method: "GET", Path: "/api/v1/users/{id}", Kind: API, Access: SignedIn, Handler: s.getUser, Summary: "Read a directory user."},
		{Method: "PATCH", Path: "/api/v1/users/{id}", Kind: API, Access: SignedIn, Handler: s.patchUser, Summary: "Change a directory user. Your own password needs \"currentPassword\"; \"revokeTokens\": true with a new password also revokes the user's API tokens; the user's other sessions end."},
		{Method: "DELETE", Path: "/api/v1/users/{id}", Kind: API, Access: SignedIn, Handler: s.deleteUser, Summary: "Delete a directory user."},
		{Method: "GET", Path: "/api/v1/groups", Kind: API, Access: SignedIn, Handler: s.listGroups, Summary: "List directory groups."},
		{Method: "POST", Path: "/api/v1/groups", Kind: API, Access: SignedIn, Handler: s.createGroup, Summary: "Create a directory group."},
		{Method: "GET", Path: "/api/v1/groups/{id}", Kind: API, Access: SignedIn, Handler: s.getGroup, Summary: "Read a directory group."},
		{Method: "PATCH", Path: "/api/v1/groups/{id}", Kind: API, Access: SignedIn, Handler: s.patchGroup, Summary: "Change a directory group."},
		{Method: "DELETE", Path: "/api/v1/groups/{id}", Kind: API, Access: SignedIn, Handler: s.deleteGroup, Summary: "Delete a directory group."},
		{Method: "GET", Path: "/api/v1/audit", Kind: API, Access: SignedIn, Handler: s.listAudit, Summary: "The audit log, newest first: Administrators see every entry, others their own (?actor= contains, ?action= prefix, ?target=, ?outcome=, ?from= and ?to= ISO 8601, ?before= or ?after= an entry id to page, ?limit= 1–1000, default 100)."},
		{Method: "GET", Path: "/api/v1/openapi.json", Kind: API, Access: Public, Handler: s.openAPI, Summary: "This description."},
		{Method: "GET", Path: "/oauth/callback", Kind: Browser, Access: SignedIn, Handler: s.oauthCallback},
		{Method: "GET", Path: "/healthz", Kind: Probe, Access: Public, Plain: http.HandlerFunc(s.healthz)},
		{Method: "GET", Path: "/readyz", Kind: Probe, Access: Public, Plain: http.HandlerFunc(s.readyz)},
		// Unknown API paths answer JSON, not the pages' 404.
		{Method: "", Path: "/api/", Kind: API, Access: Public, Handler: s.noAPIPath},
	}
	if s.cfg.Metrics != nil && !s.cfg.MetricsElsewhere {
		access := Public
		if s.cfg.MetricsToken != "" {
			access = Secret
		}
		rs = append(rs, Route{Method: "GET", Path: "/metrics", Kind: Probe, Access: access, Plain: s.MetricsHandler()})
	}
	if s.cfg.SSO != nil {
		rs = append(rs,
			Route{Method: "GET", Path: "/api/v1/settings/sso", Kind: API, Access: SignedIn, Handler: s.getSSOSettings, Summary: "The single sign-on settings (Administrator)."},
			Route{Method: "PUT", Path: "/api/v1/settings/sso", Kind: API, Access: SignedIn, Handler: s.putSSOSettings, Summary: "Replace the single sign-on settings {\"enabled\",\"datasource\",\"autoRedirect\",\"bypassGroup\",\"createUsers\"} (Administrator)."},
			Route{Method: "GET", Path: "/auth/sso/login", Kind: Browser, Access: Public, Handler: s.ssoLogin, Summary: "Start signing in with Microsoft (?next= a path on this site); redirects to Microsoft."},
			Route{Method: "GET", Path: "/auth/sso/callback", Kind: Browser, Access: Public, Handler: s.ssoCallback, Summary: "Microsoft's return from single sign-on: starts the session and redirects to next."},
		)
	}
	if s.cfg.Processes != nil {
		rs = append(rs,
			Route{Method: "GET", Path: "/api/v1/processes", Kind: API, Access: SignedIn, Handler: s.listProcesses, Summary: "Processes, by name (any signed-in user)."},
			Route{Method: "POST", Path: "/api/v1/processes", Kind: API, Access: SignedIn, Handler: s.createProcess, Summary: "Create a process ({\"name\",\"fields\":[…],\"rules\":[…]}); needs the Administrator or Design business process role. Invalid definitions answer 400 listing every problem."},
			Route{Method: "GET", Path: "/api/v1/processes/{id}", Kind: API, Access: SignedIn, Handler: s.getProcess, Summary: "Read a process definition."},
			Route{Method: "PUT", Path: "/api/v1/processes/{id}", Kind: API, Access: SignedIn, Handler: s.putProcess, Summary: "Replace a process definition (same body and roles as POST)."},
			Route{Method: "DELETE", Path: "/api/v1/processes/{id}", Kind: API, Access: SignedIn, Handler: s.deleteProcess, Summary: "Delete a process and its instances."},
			Route{Method: "POST", Path: "/api/v1/processes/{id}/instances", Kind: API, Access: SignedIn, Handler: s.startProcess, Summary: "Start an instance ({\"fields\":{…}}): the rules run in order as the caller, who must be a connection user of every data source used; answers the instance with its final fields and each rule's outcome."},
			Route{Method: "GET", Path: "/api/v1/processes/{id}/instances", Kind: API, Access: SignedIn, Handler: s.listInstances, Summary: "A process's instances, newest first (?limit=, default 100): all to designers, one's own to others."},
			Route{Method: "GET", Path: "/api/v1/instances/{id}", Kind: API, Access: SignedIn, Handler: s.getInstance, Summary: "A process instance: final fields and each rule's outcome (skipped, succeeded, failed, not run). Visible to who started it and to designers."},
		)
	}
	if s.cfg.Sync != nil {
		rs = append(rs,
			Route{Method: "GET", Path: "/api/v1/tasks", Kind: API, Access: SignedIn, Handler: s.listTasks, Summary: "Scheduled tasks: name, schedule, last run, next run, status."},
			Route{Method: "POST", Path: "/api/v1/tasks", Kind: API, Access: SignedIn, Handler: s.createTask, Summary: "Create a scheduled task ({\"kind\":\"sync\",\"target\":\"<group id>\",\"schedule\":{…}}); the answer's webhookUrl is shown once."},
			Route{Method: "GET", Path: "/api/v1/tasks/{id}", Kind: API, Access: SignedIn, Handler: s.getTask, Summary: "Read a scheduled task."},
			Route{Method: "PATCH", Path: "/api/v1/tasks/{id}", Kind: API, Access: SignedIn, Handler: s.patchTask, Summary: "Change a task's name, schedule or enabled flag; {\"rotateWebhook\":true} issues a new webhook URL (shown once)."},
			Route{Method: "DELETE", Path: "/api/v1/tasks/{id}", Kind: API, Access: SignedIn, Handler: s.deleteTask, Summary: "Delete a scheduled task."},
			Route{Method: "POST", Path: "/api/v1/tasks/{id}/run", Kind: API, Access: SignedIn, Handler: s.runTask, Summary: "Run a task now (202; {\"job\",\"already\"})."},
			// The secret in the URL is the credential: a wrong one answers
			// 404, like an unknown task.
			Route{Method: "POST", Path: "/hooks/tasks/{id}/{secret}", Kind: Hook, Access: Secret, Handler: s.taskWebhook, Summary: "On-demand webhook: queue the task's run (no sign-in; the secret is the credential)."},
			Route{Method: "GET", Path: "/api/v1/groups/{id}/sync", Kind: API, Access: SignedIn, Handler: s.getGroupSync, Summary: "A group's sync settings and its scheduled task."},
			Route{Method: "PUT", Path: "/api/v1/groups/{id}/sync", Kind: API, Access: SignedIn, Handler: s.putGroupSync, Summary: "Set a group's sync settings ({\"enabled\",\"datasource\",\"sourceGroup\",\"override\",\"missingUsers\",\"schedule\"}); turning sync on creates its hourly task."},
			Route{Method: "POST", Path: "/api/v1/groups/{id}/sync", Kind: API, Access: SignedIn, Handler: s.runGroupSync, Summary: "Run a group member sync now (?dryRun=true answers what would change; ?confirm=true passes the safety threshold; ?full=true ignores the cursor)."},
			Route{Method: "GET", Path: "/api/v1/groups/{id}/sync/runs", Kind: API, Access: SignedIn, Handler: s.listGroupSyncRuns, Summary: "A group's sync run history, newest first (?limit=, default 20)."},
			Route{Method: "POST", Path: "/api/v1/groups/{id}/sync/runs/{runId}/stop", Kind: API, Access: SignedIn, Handler: s.stopGroupSyncRun, Summary: "Stop a running sync run (a stuck or unwanted one): it ends as stopped, changes already applied stay."},
		)
	}
	if s.cfg.GraphHooks != nil {
		rs = append(rs, Route{Method: "POST", Path: "/hooks/graph/{datasource}", Kind: Hook, Access: Secret, Handler: s.graphNotification, Summary: "Microsoft Graph change notifications: the validation handshake and notification intake (no sign-in; clientState is the credential)."})
	}
	return rs
}
