package identity

import (
	"slices"
	"strings"
)

// permission describes one Microsoft Graph permission as the consent pages
// show it. Descriptions follow Graph's permission reference.
type permission struct {
	name        string
	adminOnly   bool   // delegated form needs admin consent
	application bool   // also exists as an application permission (app role)
	description string // delegated consent text
}

var permissions = []permission{
	{"User.Read", false, false, "Sign in and read your profile"},
	{"User.ReadBasic.All", false, false, "Read all users' basic profiles"},
	{"User.Read.All", true, true, "Read all users' full profiles"},
	{"User.ReadWrite.All", true, true, "Read and write all users' full profiles"},
	{"Group.Read.All", true, true, "Read all groups"},
	{"Group.ReadWrite.All", true, true, "Read and write all groups"},
	{"GroupMember.Read.All", true, true, "Read group memberships"},
	{"GroupMember.ReadWrite.All", true, true, "Read and write group memberships"},
	{"Organization.Read.All", true, true, "Read organization information"},
	{"LicenseAssignment.Read.All", true, true, "Read all license assignments"},
	{"LicenseAssignment.ReadWrite.All", true, true, "Manage all license assignments"},
	{"Directory.Read.All", true, true, "Read directory data"},
	{"Directory.ReadWrite.All", true, true, "Read and write directory data"},
	{"RoleManagement.Read.Directory", true, true, "Read your company's directory role assignments"},
	{"Mail.Read", false, true, "Read your mail"},
	{"Calendars.Read", false, true, "Read your calendars"},
	{"Files.Read", false, false, "Read your files"},
}

// oidcScopes are the OpenID Connect scopes: they shape the id token and
// refresh token rather than granting Graph access.
var oidcScopes = map[string]string{
	"openid":         "Sign you in",
	"profile":        "View your basic profile",
	"email":          "View your email address",
	"offline_access": "Maintain access to data you have given it access to",
}

var permissionByLower = func() map[string]permission {
	m := make(map[string]permission, len(permissions))
	for _, p := range permissions {
		m[strings.ToLower(p.name)] = p
	}
	return m
}()

// shortScope strips Graph's resource prefix: Microsoft accepts
// "https://graph.microsoft.com/User.Read" and "User.Read" alike.
func shortScope(s string) string {
	for _, prefix := range []string{graphResource + "/", graphAppID + "/", "https://graph.microsoft.com//"} {
		if len(s) > len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
			return s[len(prefix):]
		}
	}
	return s
}

// canonicalPermission returns the documented spelling of a permission name,
// or the short name unchanged when unknown.
func canonicalPermission(s string) string {
	s = shortScope(s)
	if p, ok := permissionByLower[strings.ToLower(s)]; ok {
		return p.name
	}
	if _, ok := oidcScopes[strings.ToLower(s)]; ok {
		return strings.ToLower(s)
	}
	return s
}

// IsAdminOnly reports whether the delegated permission scope (short name
// or full Graph URI, any case) needs an administrator's consent. OpenID
// scopes and unknown names are not admin-only.
func IsAdminOnly(scope string) bool {
	p, ok := permissionByLower[strings.ToLower(shortScope(scope))]
	return ok && p.adminOnly
}

// Directory roles, by display name, that may grant tenant-wide consent.
// Global and Privileged Role Administrators may grant anything. Application
// and Cloud Application Administrators may grant delegated permissions but
// not Microsoft Graph app roles (application permissions); the simulator
// applies that one distinction and no finer policy.
var (
	tenantConsentRoles   = []string{"Global Administrator", "Privileged Role Administrator", "Application Administrator", "Cloud Application Administrator"}
	graphAppRoleGranters = []string{"Global Administrator", "Privileged Role Administrator"}
)

// CanConsentForTenant reports whether u holds a directory role that may
// grant tenant-wide (admin) consent to delegated permissions.
func CanConsentForTenant(u User) bool { return hasAnyRole(u, tenantConsentRoles) }

// canGrantGraphAppRoles reports whether u may grant Microsoft Graph
// application permissions.
func canGrantGraphAppRoles(u User) bool { return hasAnyRole(u, graphAppRoleGranters) }

func hasAnyRole(u User, roles []string) bool {
	for _, r := range u.Roles {
		for _, want := range roles {
			if strings.EqualFold(strings.TrimSpace(r), want) {
				return true
			}
		}
	}
	return false
}

// roleTemplateIDs maps directory role display names to the template ids
// Microsoft puts in the wids claim.
var roleTemplateIDs = map[string]string{
	"global administrator":             "62e90394-69f5-4237-9190-012177145e10",
	"privileged role administrator":    "e8611ab8-c189-46e8-94e1-60213ab1f814",
	"user administrator":               "fe930be7-5e62-47db-91af-98c3a49a38b1",
	"groups administrator":             "fdd7a751-b60b-444a-984c-02652fe8fa1c",
	"license administrator":            "4d6ac14f-3453-41d0-bef9-a3e0c569773a",
	"application administrator":        "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
	"cloud application administrator":  "158c047a-c907-4556-b7ef-446551a6b5f7",
	"global reader":                    "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
	"directory readers":                "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",
	"helpdesk administrator":           "729827e3-9c14-49f7-bb1b-9608f156bbb8",
	"privileged authentication admin":  "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
	"security administrator":           "194ae4cb-b126-40b2-bd5b-6091b380977d",
	"exchange administrator":           "29232cdf-9323-42fd-ade2-1d097af3e4de",
	"sharepoint administrator":         "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
	"teams administrator":              "69091246-20e8-4a56-aa4d-066075b2a7a8",
	"billing administrator":            "b0f54661-2d74-4c50-afa3-1ec803f12efe",
	"authentication administrator":     "c4e39bd9-1100-46d3-8c65-fb160da0071f",
	"conditional access administrator": "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",
}

// defaultUserRoleTemplate is the "User" role every member holds; Microsoft
// always includes it in wids.
const defaultUserRoleTemplate = "b79fbf4d-3ef9-4689-8143-76b194e85509"

func wids(u User) []string {
	var out []string
	for _, r := range u.Roles {
		if id, ok := roleTemplateIDs[strings.ToLower(strings.TrimSpace(r))]; ok {
			out = append(out, id)
		}
	}
	return append(out, defaultUserRoleTemplate)
}

// scopeRequest is a parsed scope parameter.
type scopeRequest struct {
	graph      []string // canonical short Graph permission names
	oidc       []string // openid, profile, email, offline_access
	hasDefault bool     // "/.default" was asked for
	unknown    []string // neither Graph nor OIDC
}

func parseScopes(raw string) scopeRequest {
	var r scopeRequest
	seen := map[string]bool{}
	for _, s := range strings.Fields(raw) {
		short := shortScope(s)
		low := strings.ToLower(short)
		switch {
		case low == ".default" || strings.EqualFold(s, defaultScope) || strings.EqualFold(s, graphAppID+"/.default"):
			r.hasDefault = true
		case oidcScopes[low] != "":
			if !seen[low] {
				r.oidc = append(r.oidc, low)
			}
		case permissionByLower[low].name != "":
			name := permissionByLower[low].name
			if !seen[strings.ToLower(name)] {
				r.graph = append(r.graph, name)
			}
		default:
			r.unknown = append(r.unknown, s)
		}
		seen[low] = true
	}
	return r
}

// appPermissions returns what "/.default" stands for for app a.
func appPermissions(a App) (delegated, application []string) {
	if len(a.DelegatedPermissions) == 0 && len(a.ApplicationPermissions) == 0 {
		return DefaultPermissions, DefaultPermissions
	}
	return a.DelegatedPermissions, a.ApplicationPermissions
}

func describe(name string) string {
	if d, ok := oidcScopes[name]; ok {
		return d
	}
	if p, ok := permissionByLower[strings.ToLower(name)]; ok {
		return p.description
	}
	return name
}

func sortStrings(xs []string) { slices.Sort(xs) }
