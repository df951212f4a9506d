// Package datasource is the data source service: the connector catalogue,
// creating and changing data sources, their security settings, the
// authorize flow, connection tests and the status machine (incomplete,
// ready, test failed, re-authorization required). Every path checks the
// caller's roles and the data source's security settings, and every change
// is audited. Connectors are reached only through package connector's
// interfaces.
package datasource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/store"
)

// DefaultReauthorizeDays is how long after authorization the reminder
// date falls (the seed's "every 6 months").
const DefaultReauthorizeDays = 180

// ReminderWindow is how long before the re-authorization date the UI
// starts reminding.
const ReminderWindow = 14 * 24 * time.Hour

// Service manages data sources.
type Service struct {
	Store      store.Store
	Connectors map[string]connector.Connector
	// CallbackURL is tenantlink's OAuth redirect URI ({public URL}/oauth/callback).
	CallbackURL string
	Now         func() time.Time
	Logger      *slog.Logger
	// OnStatus, when set, is told of every status change (metrics).
	OnStatus func(ds *tenantlink.DataSource, from tenantlink.Status)
}

// Catalogue lists the connector types, sorted by title.
func (s *Service) Catalogue() []connector.Info {
	var out []connector.Info
	for _, c := range s.Connectors {
		out = append(out, c.Info())
	}
	slices.SortFunc(out, func(a, b connector.Info) int { return strings.Compare(a.Title, b.Title) })
	return out
}

// CanAdminister reports whether p may change ds: the Administrator or
// Manage datasources role, and, when the data source names connection
// administrators, being one of them. Administrators always may, so that a
// data source can never be locked out of reach (see
// docs/decisions/0003-access.md).
func CanAdminister(p *tenantlink.Principal, ds *tenantlink.DataSource) error {
	if p == tenantlink.System {
		return nil
	}
	if !p.Has(tenantlink.RoleAdministrator) && !p.Has(tenantlink.RoleManageDatasources) {
		return tenantlink.Errorf(tenantlink.EFORBIDDEN, "Data source administration needs the Administrator or Manage datasources role.")
	}
	if ds != nil && len(ds.Security.Admins) > 0 && !p.InAny(ds.Security.Admins) && !p.Has(tenantlink.RoleAdministrator) {
		return tenantlink.Errorf(tenantlink.EFORBIDDEN, "You are not a connection administrator of data source %q (see its Security settings).", ds.Name)
	}
	return nil
}

// CanUse reports whether p may run ds's read operations: any signed-in
// user when the data source names no connection users, else those named
// and the connection writers (a grant to write includes reading).
func CanUse(p *tenantlink.Principal, ds *tenantlink.DataSource) error {
	if p == tenantlink.System {
		return nil
	}
	if p == nil || p.User == nil {
		return tenantlink.Errorf(tenantlink.EUNAUTHORIZED, "Sign in first.")
	}
	if len(ds.Security.Users) > 0 && !p.InAny(ds.Security.Users) && !p.InAny(ds.Security.Writers) {
		return tenantlink.Errorf(tenantlink.EFORBIDDEN, "You are not a connection user of data source %q (see its Security settings).", ds.Name)
	}
	return nil
}

// MsgNeedWriter is the reason a write operation is refused to someone
// without a write grant; pages show it where write operations are missing.
const MsgNeedWriter = "Write operations need Connection writer rights — ask a connection administrator."

// CanWrite reports whether p may run ds's write operations, which change
// the upstream tenant with the data source's grant. Being signed in is not
// enough (unlike reading with blank Connection users): p must be listed as
// a connection writer (directly or through a group), or be a connection
// administrator (see CanAdminister) who may also use the data source. The
// Read and write setting is checked separately (see CheckOperation).
func CanWrite(p *tenantlink.Principal, ds *tenantlink.DataSource) error {
	if p == tenantlink.System {
		return nil
	}
	if p == nil || p.User == nil {
		return tenantlink.Errorf(tenantlink.EUNAUTHORIZED, "Sign in first.")
	}
	if p.InAny(ds.Security.Writers) {
		return nil
	}
	if CanAdminister(p, ds) == nil && CanUse(p, ds) == nil {
		return nil
	}
	return tenantlink.Errorf(tenantlink.EFORBIDDEN, "You may not change Microsoft 365 through data source %q: %s", ds.Name, MsgNeedWriter)
}

// Input creates or changes a data source. Nil fields are left unchanged.
type Input struct {
	Name     *string        `json:"name"`
	Type     *string        `json:"type"`
	Settings *SettingsInput `json:"settings"`
}

// SettingsInput changes settings; nil fields are left unchanged.
type SettingsInput struct {
	ReadWrite       *bool   `json:"readWrite"`
	SingleSignOn    *bool   `json:"singleSignOn"`
	AuthMode        *string `json:"authMode"`
	ReauthorizeDays *int    `json:"reauthorizeDays"`
	// ReadAllProfiles is always on; it may be sent as true, never false.
	ReadAllProfiles *bool `json:"readAllProfiles"`
}

func (s *Service) audit(ctx context.Context, st store.Store, p *tenantlink.Principal, action string, ds *tenantlink.DataSource, outcome, detail string) error {
	return directory.Audit(ctx, st, s.Now(), p, action, "datasource:"+ds.ID, outcome, detail)
}

func applySettings(ds *tenantlink.DataSource, in *SettingsInput) error {
	if in == nil {
		return nil
	}
	if in.ReadAllProfiles != nil && !*in.ReadAllProfiles {
		return tenantlink.Errorf(tenantlink.EINVALID, "Read all users' full profiles is always on and cannot be turned off.")
	}
	if in.ReadWrite != nil {
		ds.Settings.ReadWrite = *in.ReadWrite
	}
	if in.SingleSignOn != nil {
		ds.Settings.SingleSignOn = *in.SingleSignOn
	}
	if in.AuthMode != nil {
		switch *in.AuthMode {
		case tenantlink.AuthDelegated, tenantlink.AuthApplication:
			ds.Settings.AuthMode = *in.AuthMode
		default:
			return tenantlink.Errorf(tenantlink.EINVALID, "settings.authMode must be %q or %q, not %q", tenantlink.AuthDelegated, tenantlink.AuthApplication, *in.AuthMode)
		}
	}
	if in.ReauthorizeDays != nil {
		if d := *in.ReauthorizeDays; d < 0 || d > 3650 {
			return tenantlink.Errorf(tenantlink.EINVALID, "settings.reauthorizeDays must be between 1 and 3650 (0 for the default of %d)", DefaultReauthorizeDays)
		}
		ds.Settings.ReauthorizeDays = *in.ReauthorizeDays
	}
	return nil
}

func checkName(n string) (string, error) {
	n = strings.TrimSpace(n)
	if n == "" {
		return "", tenantlink.Errorf(tenantlink.EINVALID, "Display name is required.")
	}
	if len([]rune(n)) > 100 {
		return "", tenantlink.Errorf(tenantlink.EINVALID, "Display name is longer than 100 characters.")
	}
	if strings.ContainsAny(n, "\x00\r\n\t") {
		return "", tenantlink.Errorf(tenantlink.EINVALID, "Display name must be one line of text.")
	}
	if err := tenantlink.CheckText("Display name", n); err != nil {
		return "", err
	}
	return n, nil
}

// Create creates a data source with status incomplete.
func (s *Service) Create(ctx context.Context, p *tenantlink.Principal, in Input) (*tenantlink.DataSource, error) {
	if err := CanAdminister(p, nil); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "Display name is required.")
	}
	name, err := checkName(*in.Name)
	if err != nil {
		return nil, err
	}
	if in.Type == nil || *in.Type == "" {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "type is required (see GET /api/v1/connectors)")
	}
	if _, ok := s.Connectors[*in.Type]; !ok {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "unknown connector type %q (see GET /api/v1/connectors)", *in.Type)
	}
	now := s.Now()
	ds := &tenantlink.DataSource{
		Name: name, Type: *in.Type, Status: tenantlink.StatusIncomplete,
		StatusMessage: "Not authorized yet: click Authorize.",
		Settings:      tenantlink.DataSourceSettings{AuthMode: tenantlink.AuthDelegated},
		Security:      tenantlink.Security{Admins: []string{}, Users: []string{}, Writers: []string{}},
		Created:       now, Modified: now, ModifiedBy: p.Name(),
	}
	if err := applySettings(ds, in.Settings); err != nil {
		return nil, err
	}
	err = s.Store.InTx(ctx, func(tx store.Store) error {
		if err := tx.CreateDataSource(ctx, ds); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, "datasource.create", ds, "ok", ds.Name)
	})
	if err != nil {
		return nil, fmt.Errorf("create data source: %w", err)
	}
	return ds, nil
}

// Get returns a data source to its administrators and connection users;
// to anyone else it is not found, like an unknown one.
func (s *Service) Get(ctx context.Context, p *tenantlink.Principal, ref string) (*tenantlink.DataSource, error) {
	return s.find(ctx, p, ref)
}

// List returns data sources matching search (name or type): all of them to
// data source administrators, the ones they may use to everyone else.
func (s *Service) List(ctx context.Context, p *tenantlink.Principal, search string) ([]*tenantlink.DataSource, error) {
	if p == nil || p.User == nil {
		return nil, tenantlink.Errorf(tenantlink.EUNAUTHORIZED, "Sign in first.")
	}
	if len(search) > 200 {
		return nil, tenantlink.Errorf(tenantlink.EINVALID, "search is longer than 200 characters")
	}
	all, err := s.Store.ListDataSources(ctx, strings.TrimSpace(search))
	if err != nil {
		return nil, fmt.Errorf("list data sources: %w", err)
	}
	out := all[:0:0]
	for _, ds := range all {
		if CanAdminister(p, ds) == nil || CanUse(p, ds) == nil {
			out = append(out, ds)
		}
	}
	return out, nil
}

// Update changes a data source. Turning read/write on, or changing the
// authorization mode, once authorized, asks for re-authorization because
// the stored grant does not cover the new permissions.
func (s *Service) Update(ctx context.Context, p *tenantlink.Principal, ref string, in Input) (*tenantlink.DataSource, error) {
	cur, err := s.findToAdminister(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	id := cur.ID
	var out *tenantlink.DataSource
	var from tenantlink.Status
	err = s.Store.InTx(ctx, func(tx store.Store) error {
		ds, err := tx.GetDataSource(ctx, id)
		if err != nil {
			return err
		}
		if err := administers(p, ds, ref); err != nil {
			return err
		}
		from = ds.Status
		if in.Type != nil && *in.Type != ds.Type {
			return tenantlink.Errorf(tenantlink.EINVALID, "the type of a data source cannot change (create a new one)")
		}
		before := *ds
		if in.Name != nil {
			if ds.Name, err = checkName(*in.Name); err != nil {
				return err
			}
		}
		if err := applySettings(ds, in.Settings); err != nil {
			return err
		}
		var detail []string
		if ds.Name != before.Name {
			detail = append(detail, fmt.Sprintf("name %q→%q", before.Name, ds.Name))
		}
		if ds.Settings != before.Settings {
			detail = append(detail, fmt.Sprintf("settings %+v→%+v", before.Settings, ds.Settings))
		}
		if before.AuthorizedAt != nil && before.Status != tenantlink.StatusIncomplete {
			switch {
			case ds.Settings.AuthMode != before.Settings.AuthMode:
				s.setStatus(ds, tenantlink.StatusReauthorize, "The authorization mode changed: authorize again.")
			case ds.Settings.ReadWrite && !before.Settings.ReadWrite && !covers(ds.GrantedScopes, s.requiredScopes(ds)):
				s.setStatus(ds, tenantlink.StatusReauthorize, "Read and write users & groups was turned on: re-authorize to grant the write permissions.")
			}
		}
		if ds.AuthorizedAt != nil {
			ds.ReauthorizeBy = reauthorizeBy(ds)
		}
		ds.Modified, ds.ModifiedBy = s.Now(), p.Name()
		if err := tx.UpdateDataSource(ctx, ds); err != nil {
			return err
		}
		if ds.Status != before.Status {
			detail = append(detail, fmt.Sprintf("status %q→%q", before.Status, ds.Status))
		}
		out = ds
		return s.audit(ctx, tx, p, "datasource.update", ds, "ok", strings.Join(detail, "; "))
	})
	if err != nil {
		return nil, fmt.Errorf("update data source: %w", err)
	}
	if out.Status != from {
		s.notify(out, from)
	}
	return out, nil
}

// Delete deletes a data source and its stored credential. While single
// sign-on, group syncs (and their scheduled tasks) or processes use it,
// it is refused with a conflict listing them (see AsInUse) unless force
// is set; a forced deletion turns single sign-on off, disables the syncs
// and their tasks and flags the processes as needing a data source, all
// in the deletion's transaction with an audit entry each.
func (s *Service) Delete(ctx context.Context, p *tenantlink.Principal, ref string, force bool) error {
	cur, err := s.findToAdminister(ctx, p, ref)
	if err != nil {
		return err
	}
	id := cur.ID
	return s.Store.InTx(ctx, func(tx store.Store) error {
		ds, err := tx.GetDataSource(ctx, id)
		if err != nil {
			return err
		}
		if err := administers(p, ds, ref); err != nil {
			return err
		}
		deps, err := dependents(ctx, tx, id)
		if err != nil {
			return err
		}
		if len(deps) > 0 && !force {
			return inUse(ds, deps)
		}
		if err := s.detach(ctx, tx, p, ds, deps); err != nil {
			return err
		}
		if err := tx.DeleteDataSource(ctx, id); err != nil {
			return err
		}
		detail := ds.Name
		if len(deps) > 0 {
			detail += fmt.Sprintf(" (forced: %d dependent(s) detached)", len(deps))
		}
		return s.audit(ctx, tx, p, "datasource.delete", ds, "ok", detail)
	})
}

// GetSecurity returns a data source's security settings.
func (s *Service) GetSecurity(ctx context.Context, p *tenantlink.Principal, ref string) (*tenantlink.Security, error) {
	ds, err := s.findToAdminister(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	return &ds.Security, nil
}

// SecurityChoices returns the directory's users and groups that a data
// source's security settings may name, to someone who administers the
// data source (a connection administrator holding just Manage
// datasources too, whom the directory does not list users to).
func (s *Service) SecurityChoices(ctx context.Context, p *tenantlink.Principal, id string) ([]*tenantlink.User, []*tenantlink.Group, error) {
	if _, err := s.GetSecurity(ctx, p, id); err != nil {
		return nil, nil, err
	}
	users, err := s.Store.ListUsers(ctx, store.UserFilter{})
	if err != nil {
		return nil, nil, fmt.Errorf("list users for security settings: %w", err)
	}
	groups, err := s.Store.ListGroups(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("list groups for security settings: %w", err)
	}
	return users, groups, nil
}

// PutSecurity replaces a data source's security settings. Every entry
// must be a directory user or group id.
func (s *Service) PutSecurity(ctx context.Context, p *tenantlink.Principal, ref string, sec tenantlink.Security) (*tenantlink.Security, error) {
	cur, err := s.findToAdminister(ctx, p, ref)
	if err != nil {
		return nil, err
	}
	id := cur.ID
	var out *tenantlink.Security
	err = s.Store.InTx(ctx, func(tx store.Store) error {
		ds, err := tx.GetDataSource(ctx, id)
		if err != nil {
			return err
		}
		if err := administers(p, ds, ref); err != nil {
			return err
		}
		for _, list := range []*[]string{&sec.Admins, &sec.Users, &sec.Writers} {
			if *list == nil {
				*list = []string{}
			}
			if len(*list) > 500 {
				return tenantlink.Errorf(tenantlink.EINVALID, "at most 500 entries per list")
			}
			// Sorted returns nil for no entries; the API shows [] for none.
			*list = append([]string{}, slices.Compact(slices.Sorted(slices.Values(*list)))...)
			for _, ref := range *list {
				if _, err := tx.GetUser(ctx, ref); err == nil {
					continue
				}
				if _, err := tx.GetGroup(ctx, ref); err == nil {
					continue
				}
				return tenantlink.Errorf(tenantlink.EINVALID, "%q is neither a directory user nor a group", ref)
			}
		}
		ds.Security = sec
		ds.Modified, ds.ModifiedBy = s.Now(), p.Name()
		if err := tx.UpdateDataSource(ctx, ds); err != nil {
			return err
		}
		out = &ds.Security
		return s.audit(ctx, tx, p, "datasource.security", ds, "ok", fmt.Sprintf("admins=%v users=%v writers=%v", sec.Admins, sec.Users, sec.Writers))
	})
	if err != nil {
		return nil, fmt.Errorf("change security settings: %w", err)
	}
	return out, nil
}

func reauthorizeBy(ds *tenantlink.DataSource) *time.Time {
	if ds.AuthorizedAt == nil || ds.Settings.AuthMode == tenantlink.AuthApplication {
		return nil
	}
	days := ds.Settings.ReauthorizeDays
	if days == 0 {
		days = DefaultReauthorizeDays
	}
	t := ds.AuthorizedAt.AddDate(0, 0, days)
	return &t
}

// ReminderDue reports whether the re-authorization reminder should show.
func ReminderDue(ds *tenantlink.DataSource, now time.Time) bool {
	return ds.ReauthorizeBy != nil && now.After(ds.ReauthorizeBy.Add(-ReminderWindow))
}

func (s *Service) requiredScopes(ds *tenantlink.DataSource) []string {
	if r, ok := s.Connectors[ds.Type].(connector.ScopeRequirer); ok {
		return r.RequiredScopes(ds)
	}
	return nil
}

func covers(have, need []string) bool {
	for _, n := range need {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, n) }) {
			return false
		}
	}
	return true
}

func (s *Service) setStatus(ds *tenantlink.DataSource, st tenantlink.Status, msg string) {
	ds.Status, ds.StatusMessage = st, msg
}

func (s *Service) notify(ds *tenantlink.DataSource, from tenantlink.Status) {
	if s.OnStatus != nil && ds != nil {
		s.OnStatus(ds, from)
	}
}

// creds adapts the store to connector.CredentialStore.
type creds struct{ st store.Store }

func (c creds) Load(ctx context.Context, id string) ([]byte, error) {
	b, err := c.st.GetCredential(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("load credential: %w", connector.ErrNotAuthorized)
	}
	return b, err
}

func (c creds) Save(ctx context.Context, id string, secret []byte) error {
	return c.st.PutCredential(ctx, id, secret)
}

// Credentials returns the credential store connectors use.
func (s *Service) Credentials() connector.CredentialStore { return creds{s.Store} }
