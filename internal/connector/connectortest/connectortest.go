// Package connectortest is a connector for tests, after dex's
// connector/mock: it implements the capability interfaces of package
// connector from data the test sets, without HTTP, so the rules of the
// services above it (group member sync above all) can be tested in
// tables that run in milliseconds.
package connectortest

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
)

// Type is the fake's connector type (a data source's Type).
const Type = "fake"

// Delta is what an incremental read of a source group delivers: changed
// or added members and the object ids that left.
type Delta struct {
	Users   []connector.SourceUser
	Removed []string
}

// Connector is the fake. The zero value has no groups; set Groups before
// use and change it (under Lock) between runs as the tenant would change.
type Connector struct {
	mu sync.Mutex
	// Groups are the source groups' members, by source group id or name.
	Groups map[string][]connector.SourceUser
	// Deltas, when a group has one, answer a read that carries a cursor:
	// the run is incremental. Without one, every read is full.
	Deltas map[string]Delta
	// PageSize splits a read into pages (default 100).
	PageSize int
	// Err, when set, fails every read (after FailAfter pages).
	Err       error
	FailAfter int
	// Scopes are what RequiredScopes answers.
	Scopes []string
	// CountErr, when set, fails CountSourceMembers (a tenant that cannot
	// count: the sync must go on without a total).
	CountErr error

	reads []string // cursors of the reads, in order
}

var (
	_ connector.Connector           = (*Connector)(nil)
	_ connector.Tester              = (*Connector)(nil)
	_ connector.DirectoryReader     = (*Connector)(nil)
	_ connector.SourceGroupResolver = (*Connector)(nil)
	_ connector.ScopeRequirer       = (*Connector)(nil)
	_ connector.MemberCounter       = (*Connector)(nil)
)

// Lock and Unlock guard the fields while runs may read them.
func (c *Connector) Lock()   { c.mu.Lock() }
func (c *Connector) Unlock() { c.mu.Unlock() }

// Info describes the fake.
func (c *Connector) Info() connector.Info {
	return connector.Info{Type: Type, Title: "Fake directory", Description: "A connector for tests."}
}

// Test always passes.
func (c *Connector) Test(context.Context, *tenantlink.DataSource, connector.CredentialStore) connector.TestResult {
	return connector.TestResult{OK: true, Message: "fake connector"}
}

// RequiredScopes answers Scopes.
func (c *Connector) RequiredScopes(*tenantlink.DataSource) []string { return c.Scopes }

// ResolveSourceGroup knows the groups in Groups.
func (c *Connector) ResolveSourceGroup(_ context.Context, _ *tenantlink.DataSource, _ connector.CredentialStore, sourceGroup string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.Groups[sourceGroup]; !ok {
		return "", tenantlink.Errorf(tenantlink.EINVALID, "no source group %q", sourceGroup)
	}
	return sourceGroup, nil
}

// CountSourceMembers answers how many users Groups[sourceGroup] has: what
// a full read delivers.
func (c *Connector) CountSourceMembers(_ context.Context, _ *tenantlink.DataSource, _ connector.CredentialStore, sourceGroup string) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.CountErr != nil {
		return 0, c.CountErr
	}
	members, ok := c.Groups[sourceGroup]
	if !ok {
		return 0, tenantlink.Errorf(tenantlink.ENOTFOUND, "no source group %q", sourceGroup)
	}
	return len(members), nil
}

// Reads returns the cursors the reads were given, in order ("" for full).
func (c *Connector) Reads() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.reads)
}

// ReadGroupMembers delivers Groups[sourceGroup] in pages (a full read), or
// Deltas[sourceGroup] when cursor is set and the group has one. The new
// cursor counts the reads.
func (c *Connector) ReadGroupMembers(ctx context.Context, _ *tenantlink.DataSource, _ connector.CredentialStore, sourceGroup, cursor string,
	page func(users []connector.SourceUser, removed []string) error) (string, bool, error) {
	c.mu.Lock()
	c.reads = append(c.reads, cursor)
	n := len(c.reads)
	members, known := c.Groups[sourceGroup]
	delta, incremental := c.Deltas[sourceGroup]
	size, fail, failAfter := c.PageSize, c.Err, c.FailAfter
	members = slices.Clone(members)
	c.mu.Unlock()
	if !known {
		return "", false, tenantlink.Errorf(tenantlink.ENOTFOUND, "no source group %q", sourceGroup)
	}
	if size <= 0 {
		size = 100
	}
	full := cursor == "" || !incremental
	users, removed := members, []string(nil)
	if !full {
		users, removed = slices.Clone(delta.Users), slices.Clone(delta.Removed)
	}
	pages := 0
	for first := true; first || len(users) > 0; first = false {
		if fail != nil && pages >= failAfter {
			return "", full, fail
		}
		if err := ctx.Err(); err != nil {
			return "", full, err
		}
		k := min(size, len(users))
		var gone []string
		if k == len(users) {
			gone = removed // the last page carries the removals
		}
		if err := page(users[:k], gone); err != nil {
			return "", full, err
		}
		users = users[k:]
		pages++
	}
	if fail != nil && pages >= failAfter {
		return "", full, fail
	}
	return fmt.Sprintf("cursor-%d", n), full, nil
}

// User is a source user with every field present, enabled.
func User(objectID, email, name string) connector.SourceUser {
	return connector.SourceUser{ObjectID: objectID, Email: email, DisplayName: name, Enabled: true}
}
