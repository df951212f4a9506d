package m365sim

import (
	"crypto/subtle"

	"github.com/tenantlink/tenantlink/m365sim/identity"
)

// directory lets identity read the simulator's state without owning it.
type directory struct{ s *Server }

var _ identity.Directory = directory{}

func (d directory) TenantByIDOrDomain(v string) (identity.Tenant, bool) {
	d.s.mu.RLock()
	defer d.s.mu.RUnlock()
	t := d.s.tenantByID(v)
	if t == nil {
		return identity.Tenant{}, false
	}
	return identity.Tenant{ID: t.ID, Domain: t.Domain, DisplayName: t.DisplayName}, true
}

func (d directory) UserBySignInName(tenantID, name string) (identity.User, bool) {
	return d.lookup(tenantID, name)
}

func (d directory) UserByID(tenantID, id string) (identity.User, bool) {
	return d.lookup(tenantID, id)
}

func (d directory) lookup(tenantID, ref string) (identity.User, bool) {
	d.s.mu.RLock()
	defer d.s.mu.RUnlock()
	t := d.s.tenantByID(tenantID)
	if t == nil {
		return identity.User{}, false
	}
	u := t.userRef(ref)
	if u == nil {
		return identity.User{}, false
	}
	return identity.User{
		ID: u.ID, TenantID: t.ID, UserPrincipalName: u.UserPrincipalName, DisplayName: u.DisplayName,
		GivenName: u.GivenName, Surname: u.Surname, Mail: u.Mail, Enabled: u.AccountEnabled,
		Roles: append([]string(nil), u.Roles...),
	}, true
}

func (d directory) CheckPassword(tenantID, userID, password string) bool {
	d.s.mu.RLock()
	defer d.s.mu.RUnlock()
	t := d.s.tenantByID(tenantID)
	if t == nil {
		return false
	}
	u := t.userRef(userID)
	if u == nil || u.Password == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(u.Password), []byte(password)) == 1
}
