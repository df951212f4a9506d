package ui_test

// Fakes for the fast tests of the pages (pages_test.go): the services
// behind ui.Deps and package web's Config, each embedding the interface
// it stands in for (a method no test expects panics) and recording its
// calls in one log. No database, no simulator, no browser.
//
// The fakes refuse as the services do (docs/decisions/0023): users and
// groups need the Administrator role, checked before any look-up; a data
// source the viewer may not see is not found, exactly as an unknown one
// (datasource.Visible); administering one needs a role first, then the
// data source's own list (datasource.CanAdminister); someone else's API
// token is not found for a non-Administrator.

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/datasource"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/sso"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/web"
	"github.com/tenantlink/tenantlink/internal/web/ui"
	"github.com/tenantlink/tenantlink/internal/web/webtest"
)

// The services satisfy the pages' interfaces as they are.
var (
	_ ui.Server      = (*web.Server)(nil)
	_ ui.Accounts    = (*directory.Service)(nil)
	_ ui.Tokens      = (*directory.Service)(nil)
	_ ui.Audit       = (*directory.Service)(nil)
	_ ui.Users       = (*directory.Service)(nil)
	_ ui.Groups      = (*directory.Service)(nil)
	_ ui.DataSources = (*datasource.Service)(nil)
	_ ui.Operations  = (*datasource.Service)(nil)
	_ ui.Licences    = (*datasource.Service)(nil)
	_ ui.SSO         = (*sso.Service)(nil)
)

// The fakes' viewers: an Administrator, a plain user, and no one.
var (
	adminViewer = webtest.Viewer{User: &tenantlink.User{ID: "u-admin", Email: "admin@example.com", DisplayName: "Ada Admin", Active: true,
		Roles: []tenantlink.Role{tenantlink.RoleAdministrator}}, Cookie: "admin-cookie", CSRF: "admin-csrf"}
	userViewer = webtest.Viewer{User: &tenantlink.User{ID: "u-bob", Email: "bob@example.com", DisplayName: "Bob User", Active: true,
		Roles: []tenantlink.Role{tenantlink.RoleUser}}, Cookie: "bob-cookie", CSRF: "bob-csrf"}
	anonymousViewer = webtest.Viewer{}
)

// fakeDirectory is the directory service: the two viewers' sessions,
// users, groups and tokens. What it stored is in the maps; every call
// is in log.
type fakeDirectory struct {
	webtest.Directory
	log    *webtest.Calls
	users  map[string]*tenantlink.User
	groups map[string]*tenantlink.Group
	tokens map[string]*directory.Token
	// audit is what ListAudit answers; filters, the filters it was given.
	audit   []*tenantlink.AuditEntry
	filters []store.AuditFilter
}

func (f *fakeDirectory) ListUsers(_ context.Context, p *tenantlink.Principal, flt store.UserFilter) ([]*tenantlink.User, error) {
	f.log.Add("ListUsers %q", flt.Search)
	if err := webtest.RequireAdmin(p, "Reading users"); err != nil {
		return nil, err
	}
	var out []*tenantlink.User
	for _, u := range f.users {
		if strings.Contains(u.Email, flt.Search) {
			out = append(out, u)
		}
	}
	slices.SortFunc(out, func(a, b *tenantlink.User) int { return strings.Compare(a.Email, b.Email) })
	return out, nil
}

func (f *fakeDirectory) GetUser(_ context.Context, p *tenantlink.Principal, id string) (*tenantlink.User, error) {
	f.log.Add("GetUser %s", id)
	if err := webtest.RequireAdmin(p, "Reading users"); err != nil {
		return nil, err
	}
	if u, ok := f.users[id]; ok {
		return u, nil
	}
	return nil, tenantlink.Errorf(tenantlink.ENOTFOUND, "user %q not found", id)
}

// CreateUser refuses an address without @ and one already taken.
func (f *fakeDirectory) CreateUser(_ context.Context, p *tenantlink.Principal, in directory.UserInput) (*tenantlink.User, error) {
	f.log.Add("CreateUser %s", *in.Email)
	if err := webtest.RequireAdmin(p, "Creating users"); err != nil {
		return nil, err
	}
	if !strings.Contains(*in.Email, "@") {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "email %q is not an email address", *in.Email)
	}
	for _, u := range f.users {
		if u.Email == *in.Email {
			return nil, tenantlink.Errorf(tenantlink.ECONFLICT, "a user with email %q already exists", *in.Email)
		}
	}
	u := &tenantlink.User{ID: "u-new", Email: *in.Email, DisplayName: *in.DisplayName, Roles: *in.Roles, Active: true}
	f.users[u.ID] = u
	return u, nil
}

func (f *fakeDirectory) UpdateUser(_ context.Context, p *tenantlink.Principal, id string, in directory.UserInput) (*tenantlink.User, error) {
	f.log.Add("UpdateUser %s", id)
	if err := webtest.RequireAdmin(p, "Changing users"); err != nil {
		return nil, err
	}
	u, ok := f.users[id]
	if !ok {
		return nil, tenantlink.Errorf(tenantlink.ENOTFOUND, "user %q not found", id)
	}
	c := *u
	if in.Roles != nil {
		c.Roles = *in.Roles
	}
	if in.Active != nil {
		c.Active = *in.Active
	}
	f.users[id] = &c
	return &c, nil
}

func (f *fakeDirectory) ListGroups(_ context.Context, p *tenantlink.Principal) ([]*tenantlink.Group, error) {
	f.log.Add("ListGroups")
	if err := webtest.RequireAdmin(p, "Reading groups"); err != nil {
		return nil, err
	}
	var out []*tenantlink.Group
	for _, g := range f.groups {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *tenantlink.Group) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (f *fakeDirectory) GetGroup(_ context.Context, p *tenantlink.Principal, id string) (*tenantlink.Group, error) {
	f.log.Add("GetGroup %s", id)
	if err := webtest.RequireAdmin(p, "Reading groups"); err != nil {
		return nil, err
	}
	if g, ok := f.groups[id]; ok {
		return g, nil
	}
	return nil, tenantlink.Errorf(tenantlink.ENOTFOUND, "group %q not found", id)
}

// checkGroupName refuses a blank name and one another group has.
func (f *fakeDirectory) checkGroupName(id, name string) error {
	if strings.TrimSpace(name) == "" {
		return tenantlink.Errorf(tenantlink.EINVALID, "A group needs a name.")
	}
	for _, g := range f.groups {
		if g.ID != id && g.Name == name {
			return tenantlink.Errorf(tenantlink.ECONFLICT, "A group named %q already exists.", name)
		}
	}
	return nil
}

func (f *fakeDirectory) CreateGroup(_ context.Context, p *tenantlink.Principal, in directory.GroupInput) (*tenantlink.Group, error) {
	f.log.Add("CreateGroup %s", *in.Name)
	if err := webtest.RequireAdmin(p, "Changing groups"); err != nil {
		return nil, err
	}
	if err := f.checkGroupName("", *in.Name); err != nil {
		return nil, err
	}
	g := &tenantlink.Group{ID: "g-new", Name: *in.Name, Roles: *in.Roles}
	f.groups[g.ID] = g
	return g, nil
}

func (f *fakeDirectory) UpdateGroup(_ context.Context, p *tenantlink.Principal, id string, in directory.GroupInput) (*tenantlink.Group, error) {
	f.log.Add("UpdateGroup %s %s", id, *in.Name)
	if err := webtest.RequireAdmin(p, "Changing groups"); err != nil {
		return nil, err
	}
	g, ok := f.groups[id]
	if !ok {
		return nil, tenantlink.Errorf(tenantlink.ENOTFOUND, "group %q not found", id)
	}
	if err := f.checkGroupName(id, *in.Name); err != nil {
		return nil, err
	}
	c := *g
	c.Name, c.Roles = *in.Name, *in.Roles
	f.groups[id] = &c
	return &c, nil
}

// AddGroupMembers refuses an id that is no user.
func (f *fakeDirectory) AddGroupMembers(_ context.Context, p *tenantlink.Principal, groupID string, userIDs []string) (*tenantlink.Group, error) {
	f.log.Add("AddGroupMembers %s %s", groupID, strings.Join(userIDs, ","))
	return f.changeMembers(p, groupID, userIDs, true)
}

func (f *fakeDirectory) RemoveGroupMembers(_ context.Context, p *tenantlink.Principal, groupID string, userIDs []string) (*tenantlink.Group, error) {
	f.log.Add("RemoveGroupMembers %s %s", groupID, strings.Join(userIDs, ","))
	return f.changeMembers(p, groupID, userIDs, false)
}

func (f *fakeDirectory) changeMembers(p *tenantlink.Principal, groupID string, userIDs []string, add bool) (*tenantlink.Group, error) {
	if err := webtest.RequireAdmin(p, "Changing groups"); err != nil {
		return nil, err
	}
	g, ok := f.groups[groupID]
	if !ok {
		return nil, tenantlink.Errorf(tenantlink.ENOTFOUND, "group %q not found", groupID)
	}
	for _, id := range userIDs {
		if _, ok := f.users[id]; !ok {
			return nil, tenantlink.Errorf(tenantlink.EINVALID, "user %q not found", id)
		}
	}
	c := *g
	c.Members = slices.DeleteFunc(slices.Clone(g.Members), func(m string) bool { return slices.Contains(userIDs, m) })
	if add {
		c.Members = append(c.Members, userIDs...)
	}
	f.groups[groupID] = &c
	return &c, nil
}

func (f *fakeDirectory) DeleteGroup(_ context.Context, p *tenantlink.Principal, id string) error {
	f.log.Add("DeleteGroup %s", id)
	if err := webtest.RequireAdmin(p, "Changing groups"); err != nil {
		return err
	}
	if _, ok := f.groups[id]; !ok {
		return tenantlink.Errorf(tenantlink.ENOTFOUND, "group %q not found", id)
	}
	delete(f.groups, id)
	return nil
}

// visibleTokens are the tokens p may see: their own, or all of them for
// an Administrator.
func (f *fakeDirectory) visibleTokens(p *tenantlink.Principal) []*directory.Token {
	var out []*directory.Token
	for _, t := range f.tokens {
		if t.UserID == p.User.ID || p.Has(tenantlink.RoleAdministrator) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *directory.Token) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (f *fakeDirectory) ListTokens(_ context.Context, p *tenantlink.Principal) ([]*directory.Token, error) {
	f.log.Add("ListTokens")
	return f.visibleTokens(p), nil
}

func (f *fakeDirectory) Token(_ context.Context, p *tenantlink.Principal, id string) (*directory.Token, error) {
	f.log.Add("Token %s", id)
	for _, t := range f.visibleTokens(p) {
		if t.ID == id {
			return t, nil
		}
	}
	return nil, tenantlink.Errorf(tenantlink.ENOTFOUND, "API token %q not found", id)
}

// IssueToken refuses a blank name; the secret is tl_SECRET-<name>.
func (f *fakeDirectory) IssueToken(_ context.Context, p *tenantlink.Principal, in directory.TokenInput) (string, *directory.Token, error) {
	f.log.Add("IssueToken %q %d", in.Name, in.ExpiresInDays)
	if strings.TrimSpace(in.Name) == "" {
		return "", nil, tenantlink.Errorf(tenantlink.EINVALID, "A token needs a name.")
	}
	t := &directory.Token{ID: "tk-new", Name: in.Name, Prefix: "tl_SECR", UserID: p.User.ID, Owner: p.User.Email, CreatedAt: webtest.Now}
	f.tokens[t.ID] = t
	return "tl_SECRET-" + in.Name, t, nil
}

func (f *fakeDirectory) RevokeToken(_ context.Context, p *tenantlink.Principal, id string) error {
	f.log.Add("RevokeToken %s", id)
	for _, t := range f.visibleTokens(p) {
		if t.ID == id {
			delete(f.tokens, id)
			return nil
		}
	}
	return tenantlink.Errorf(tenantlink.ENOTFOUND, "API token %q not found", id)
}

// ListAudit records the filter it was given and answers audit as it is:
// the filtering is the service's, not the page's.
func (f *fakeDirectory) ListAudit(_ context.Context, p *tenantlink.Principal, flt store.AuditFilter) ([]*tenantlink.AuditEntry, error) {
	f.log.Add("ListAudit")
	f.filters = append(f.filters, flt)
	return f.audit, nil
}

func (f *fakeDirectory) AuditTargets(_ context.Context, p *tenantlink.Principal, targets []string) (map[string]directory.AuditTarget, error) {
	f.log.Add("AuditTargets")
	out := map[string]directory.AuditTarget{}
	for _, t := range targets {
		kind, id, _ := strings.Cut(t, ":")
		if u, ok := f.users[id]; ok && kind == "user" {
			out[t] = directory.AuditTarget{Kind: kind, ID: id, Name: u.Email, Exists: true}
		}
	}
	return out, nil
}

// fakeDataSources is the data source service on dss, with the
// service's visibility and administration rules.
type fakeDataSources struct {
	web.DataSources
	log *webtest.Calls
	dss map[string]*tenantlink.DataSource
}

func (f *fakeDataSources) Catalogue() []connector.Info {
	return []connector.Info{{Type: tenantlink.ConnectorOffice365, Title: "Office 365", Description: "Microsoft 365 users and groups"}}
}

func (f *fakeDataSources) List(_ context.Context, p *tenantlink.Principal, search string) ([]*tenantlink.DataSource, error) {
	f.log.Add("List %q", search)
	var out []*tenantlink.DataSource
	for _, ds := range f.dss {
		if datasource.Visible(p, ds) && strings.Contains(ds.Name, search) {
			out = append(out, ds)
		}
	}
	slices.SortFunc(out, func(a, b *tenantlink.DataSource) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// find is the service's: what p may not see is not found.
func (f *fakeDataSources) find(p *tenantlink.Principal, ref string) (*tenantlink.DataSource, error) {
	ds, ok := f.dss[ref]
	if !ok || !datasource.Visible(p, ds) {
		return nil, tenantlink.Errorf(tenantlink.ENOTFOUND, "data source %q not found", ref)
	}
	return ds, nil
}

// findToAdminister checks the role first, then finds, then checks the
// data source's connection administrators.
func (f *fakeDataSources) findToAdminister(p *tenantlink.Principal, ref string) (*tenantlink.DataSource, error) {
	if err := datasource.CanAdminister(p, nil); err != nil {
		return nil, err
	}
	ds, err := f.find(p, ref)
	if err != nil {
		return nil, err
	}
	return ds, datasource.CanAdminister(p, ds)
}

func (f *fakeDataSources) Get(_ context.Context, p *tenantlink.Principal, ref string) (*tenantlink.DataSource, error) {
	f.log.Add("Get %s", ref)
	return f.find(p, ref)
}

// checkName refuses a blank name and one another data source has.
func (f *fakeDataSources) checkName(id, name string) error {
	if strings.TrimSpace(name) == "" {
		return tenantlink.Errorf(tenantlink.EINVALID, "name is required")
	}
	for _, ds := range f.dss {
		if ds.ID != id && ds.Name == name {
			return tenantlink.Errorf(tenantlink.ECONFLICT, "a data source named %q already exists", name)
		}
	}
	return nil
}

func (f *fakeDataSources) Create(_ context.Context, p *tenantlink.Principal, in datasource.Input) (*tenantlink.DataSource, error) {
	f.log.Add("Create %q", *in.Name)
	if err := datasource.CanAdminister(p, nil); err != nil {
		return nil, err
	}
	if err := f.checkName("", *in.Name); err != nil {
		return nil, err
	}
	ds := &tenantlink.DataSource{ID: "ds-new", Name: *in.Name, Type: *in.Type, Status: tenantlink.StatusIncomplete,
		Settings: tenantlink.DataSourceSettings{ReadWrite: *in.Settings.ReadWrite, SingleSignOn: *in.Settings.SingleSignOn, AuthMode: *in.Settings.AuthMode}}
	f.dss[ds.ID] = ds
	return ds, nil
}

func (f *fakeDataSources) Update(_ context.Context, p *tenantlink.Principal, ref string, in datasource.Input) (*tenantlink.DataSource, error) {
	f.log.Add("Update %s %q", ref, *in.Name)
	ds, err := f.findToAdminister(p, ref)
	if err != nil {
		return nil, err
	}
	if err := f.checkName(ds.ID, *in.Name); err != nil {
		return nil, err
	}
	c := *ds
	c.Name = *in.Name
	c.Settings.ReadWrite, c.Settings.SingleSignOn, c.Settings.AuthMode = *in.Settings.ReadWrite, *in.Settings.SingleSignOn, *in.Settings.AuthMode
	f.dss[ds.ID] = &c
	return &c, nil
}

func (f *fakeDataSources) GetSecurity(_ context.Context, p *tenantlink.Principal, ref string) (*tenantlink.Security, error) {
	f.log.Add("GetSecurity %s", ref)
	ds, err := f.findToAdminister(p, ref)
	if err != nil {
		return nil, err
	}
	sec := ds.Security
	return &sec, nil
}

func (f *fakeDataSources) SecurityChoices(_ context.Context, p *tenantlink.Principal, id string) ([]*tenantlink.User, []*tenantlink.Group, error) {
	f.log.Add("SecurityChoices %s", id)
	if _, err := f.findToAdminister(p, id); err != nil {
		return nil, nil, err
	}
	return []*tenantlink.User{adminViewer.User, userViewer.User}, []*tenantlink.Group{{ID: "g-staff", Name: "Staff"}}, nil
}

func (f *fakeDataSources) Dependents(_ context.Context, p *tenantlink.Principal, ref string) ([]datasource.Dependent, error) {
	f.log.Add("Dependents %s", ref)
	_, err := f.findToAdminister(p, ref)
	return nil, err
}

// PutSecurity refuses a name that is neither a user nor a group.
func (f *fakeDataSources) PutSecurity(_ context.Context, p *tenantlink.Principal, ref string, sec tenantlink.Security) (*tenantlink.Security, error) {
	f.log.Add("PutSecurity %s", ref)
	ds, err := f.findToAdminister(p, ref)
	if err != nil {
		return nil, err
	}
	for _, id := range slices.Concat(sec.Admins, sec.Users, sec.Writers) {
		if id != adminViewer.User.ID && id != userViewer.User.ID && id != "g-staff" {
			return nil, tenantlink.Errorf(tenantlink.EINVALID, "%q is neither a user nor a group", id)
		}
	}
	c := *ds
	c.Security = sec
	f.dss[ds.ID] = &c
	return &sec, nil
}

// fakeOperations is the "Run an operation" panel's service: one read
// operation for whoever may use the data source. (It cannot embed
// ui.Operations, whose method has the interface's name; running an
// operation is not among the fast tests.)
type fakeOperations struct {
	log *webtest.Calls
	dss *fakeDataSources
}

func (f *fakeOperations) Operations(_ context.Context, p *tenantlink.Principal, id string) ([]connector.Operation, error) {
	f.log.Add("Operations %s", id)
	if _, err := f.dss.find(p, id); err != nil {
		return nil, err
	}
	return []connector.Operation{{Name: "listUsers", Label: "List users"}}, nil
}

func (f *fakeOperations) Check(context.Context, *tenantlink.Principal, string, string) error {
	panic("fakeOperations.Check: not expected")
}

func (f *fakeOperations) RunOperation(context.Context, *tenantlink.Principal, string, string, map[string]any) ([]connector.Item, error) {
	panic("fakeOperations.RunOperation: not expected")
}

// fakeStack is ui's routes and package web's on the same fakes, wired
// as package app wires the services.
type fakeStack struct {
	handler http.Handler
	log     *webtest.Calls
	dir     *fakeDirectory
	dss     *fakeDataSources
}

func newFakeStack(t *testing.T) *fakeStack {
	t.Helper()
	log := &webtest.Calls{}
	ann := &tenantlink.User{ID: "u-ann", Email: "ann@example.com", DisplayName: "Ann Other", Active: true, Roles: []tenantlink.Role{tenantlink.RoleUser}, Groups: []string{"g-staff"}}
	st := &fakeStack{log: log,
		dir: &fakeDirectory{Directory: webtest.Directory{Viewers: []webtest.Viewer{adminViewer, userViewer}}, log: log,
			users: map[string]*tenantlink.User{adminViewer.User.ID: adminViewer.User, userViewer.User.ID: userViewer.User, ann.ID: ann},
			groups: map[string]*tenantlink.Group{
				"g-staff": {ID: "g-staff", Name: "Staff", Roles: []tenantlink.Role{tenantlink.RoleDesignProcess}, Members: []string{"u-ann"}},
			},
			tokens: map[string]*directory.Token{
				"tk-admin": {ID: "tk-admin", Name: "Admin script", Prefix: "tl_admn", UserID: adminViewer.User.ID, Owner: adminViewer.User.Email, CreatedAt: webtest.Now.Add(-time.Hour)},
				"tk-bob":   {ID: "tk-bob", Name: "Bob laptop", Prefix: "tl_bobb", UserID: userViewer.User.ID, Owner: userViewer.User.Email, CreatedAt: webtest.Now.Add(-time.Hour)},
			},
			audit: []*tenantlink.AuditEntry{{ID: 7, At: webtest.Now.Add(-time.Minute), ActorID: adminViewer.User.ID, Actor: adminViewer.User.Email,
				Action: "user.update", Target: "user:u-ann", Outcome: "ok"}},
		},
		dss: &fakeDataSources{log: log, dss: map[string]*tenantlink.DataSource{
			// Contoso's only connection user is the Administrator: Bob
			// may not see it.
			"ds1": {ID: "ds1", Name: "Contoso", Type: tenantlink.ConnectorOffice365, Status: tenantlink.StatusReady, StatusMessage: "Connection OK",
				Settings: tenantlink.DataSourceSettings{AuthMode: tenantlink.AuthDelegated},
				Security: tenantlink.Security{Users: []string{adminViewer.User.ID}}},
			// Bob uses Fabrikam but may not administer it.
			"ds2": {ID: "ds2", Name: "Fabrikam", Type: tenantlink.ConnectorOffice365, Status: tenantlink.StatusIncomplete,
				Settings: tenantlink.DataSourceSettings{AuthMode: tenantlink.AuthDelegated},
				Security: tenantlink.Security{Users: []string{adminViewer.User.ID, userViewer.User.ID}}},
		}},
	}
	ops := &fakeOperations{log: log, dss: st.dss}
	s := web.New(web.Config{Directory: st.dir, DataSources: st.dss, Now: func() time.Time { return webtest.Now }})
	s.Mount(ui.Routes(ui.Deps{
		Server:      s,
		Tokens:      st.dir,
		Audit:       st.dir,
		Users:       st.dir,
		Groups:      st.dir,
		DataSources: st.dss,
		Operations:  ops,
		Now:         func() time.Time { return webtest.Now },
	})...)
	st.handler = s.Handler()
	return st
}

// do sends a request as v (webtest.Do).
func (st *fakeStack) do(t *testing.T, v webtest.Viewer, method, target string, form url.Values) webtest.Answer {
	t.Helper()
	return webtest.Do(t, st.handler, v, method, target, form)
}
