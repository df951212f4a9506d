package office365

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/graph"
)

// adminRoles are the directory roles allowed to authorize tenantlink, by
// role template id (the same in every tenant). Display names are the
// fallback for answers without roleTemplateId, including the legacy names
// older tenants still show.
var adminRoles = map[string]string{
	"62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
	"e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
	"fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
	"fdd7a751-b60b-444a-984c-02652fe8fa1c": "Groups Administrator",
	"4d6ac14f-3453-41d0-bef9-a3e0c569773a": "License Administrator",
}

var adminRoleNames = map[string]bool{
	"global administrator":          true,
	"company administrator":         true, // Global Administrator's legacy name
	"privileged role administrator": true,
	"user administrator":            true,
	"user account administrator":    true, // User Administrator's legacy name
	"groups administrator":          true,
	"license administrator":         true,
}

// isAdminRole reports whether a memberOf entry is one of adminRoles.
func isAdminRole(o graph.DirectoryObject) bool {
	if !strings.EqualFold(o.ODataType, graph.TypeDirectoryRole) {
		return false
	}
	if _, ok := adminRoles[strings.ToLower(o.RoleTemplateID)]; ok {
		return true
	}
	return adminRoleNames[strings.ToLower(strings.TrimSpace(o.DisplayName))]
}

// errAdminFound stops the memberOf listing at the first admin role.
var errAdminFound = errors.New("admin role found")

// checkAdmin refuses a signer who holds none of adminRoles. Tenant-wide
// consent may already exist, in which case Microsoft lets any user through
// the authorize page; tenantlink still wants an administrator to own the
// grant (docs/SPEC.md §4).
func (c *Connector) checkAdmin(ctx context.Context, gc *graph.Client, who string) error {
	err := gc.MemberOf(ctx, "me", graph.Query{}, func(objs []graph.DirectoryObject) error {
		for _, o := range objs {
			if isAdminRole(o) {
				return errAdminFound
			}
		}
		return nil
	})
	switch {
	case errors.Is(err, errAdminFound):
		return nil
	case err == nil:
		return tenantlink.Errorf(tenantlink.EFORBIDDEN,
			"The Microsoft account %s is not an administrator of the tenant (needs Global, Privileged Role, User, Groups or License Administrator), so tenantlink was not authorized. Ask an administrator to click Authorize.", who)
	case errors.Is(err, graph.ErrForbidden):
		return &tenantlink.Error{
			Code:    tenantlink.EFORBIDDEN,
			Message: fmt.Sprintf("Microsoft Graph refused to list the directory roles of %s, so tenantlink cannot check it is an administrator: %s", who, graphReason(err)),
			Err:     err,
		}
	}
	return &tenantlink.Error{
		Code:    tenantlink.EUPSTREAM,
		Message: fmt.Sprintf("Cannot check the directory roles of %s in Microsoft Graph: %s", who, graphReason(err)),
		Err:     err,
	}
}
