package m365sim

import (
	"crypto/sha1"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Default property sets, in the order Graph returns them.
var (
	defaultUserProps = []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"}
	basicUserProps   = map[string]bool{"id": true, "displayName": true, "givenName": true, "surname": true, "mail": true, "userPrincipalName": true, "securityIdentifier": true}
	userProps        = canon("id", "userPrincipalName", "displayName", "givenName", "surname", "mail", "jobTitle", "department", "officeLocation",
		"companyName", "employeeId", "mobilePhone", "businessPhones", "city", "country", "usageLocation", "accountEnabled",
		"assignedLicenses", "createdDateTime", "preferredLanguage", "userType", "mailNickname", "otherMails", "proxyAddresses",
		"state", "streetAddress", "postalCode", "faxNumber", "onPremisesSyncEnabled", "onPremisesImmutableId", "deletedDateTime",
		"securityIdentifier", "ageGroup", "employeeType", "externalUserState", "creationType", "showInAddressList", "passwordPolicies")
	defaultGroupProps = []string{"id", "deletedDateTime", "classification", "createdDateTime", "description", "displayName", "expirationDateTime",
		"groupTypes", "isAssignableToRole", "mail", "mailEnabled", "mailNickname", "membershipRule", "membershipRuleProcessingState",
		"onPremisesDomainName", "onPremisesLastSyncDateTime", "onPremisesNetBiosName", "onPremisesSamAccountName", "onPremisesSecurityIdentifier",
		"onPremisesSyncEnabled", "preferredDataLocation", "preferredLanguage", "proxyAddresses", "renewedDateTime", "resourceBehaviorOptions",
		"resourceProvisioningOptions", "securityEnabled", "securityIdentifier", "theme", "visibility", "onPremisesProvisioningErrors", "serviceProvisioningErrors"}
	groupProps = canon(defaultGroupProps...)
	// fullUserProps are the properties the simulator carries values for,
	// returned where Graph returns a whole user (assignLicense).
	fullUserProps = []string{"id", "accountEnabled", "assignedLicenses", "businessPhones", "city", "companyName", "country", "createdDateTime",
		"department", "displayName", "employeeId", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation", "preferredLanguage",
		"surname", "usageLocation", "userPrincipalName"}
	// Properties Graph returns only for a single user (GET /users/{id}).
	singleUserOnly = canon("aboutMe", "birthday", "hireDate", "interests", "mySite", "pastProjects", "preferredName", "responsibilities", "schools", "skills", "mailboxSettings")
)

func canon(names ...string) map[string]string {
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[strings.ToLower(n)] = n
	}
	return m
}

// get is the user's property getter, shared by rendering and OData.
func (u *user) get(p string) (any, bool) {
	switch p {
	case "id":
		return u.ID, true
	case "userPrincipalName":
		return u.UserPrincipalName, true
	case "displayName":
		return nullable(u.DisplayName), true
	case "givenName":
		return nullable(u.GivenName), true
	case "surname":
		return nullable(u.Surname), true
	case "mail":
		return nullable(u.Mail), true
	case "jobTitle":
		return nullable(u.JobTitle), true
	case "department":
		return nullable(u.Department), true
	case "officeLocation":
		return nullable(u.OfficeLocation), true
	case "companyName":
		return nullable(u.CompanyName), true
	case "employeeId":
		return nullable(u.EmployeeID), true
	case "mobilePhone":
		return nullable(u.MobilePhone), true
	case "businessPhones":
		if u.BusinessPhones == nil {
			return []string{}, true
		}
		return u.BusinessPhones, true
	case "city":
		return nullable(u.City), true
	case "country":
		return nullable(u.Country), true
	case "usageLocation":
		return nullable(u.UsageLocation), true
	case "accountEnabled":
		return u.AccountEnabled, true
	case "assignedLicenses":
		lics := u.allLicences() // direct and inherited from groups (grouplicensing.go)
		out := make([]map[string]any, len(lics))
		for i, l := range lics {
			dp := l.DisabledPlans
			if dp == nil {
				dp = []string{}
			}
			out[i] = map[string]any{"disabledPlans": dp, "skuId": l.SkuID}
		}
		return out, true
	case "licenseAssignmentStates":
		return u.licenceStates(), true
	case "createdDateTime":
		return graphTime(u.Created), true
	case "preferredLanguage":
		return nullable(u.PreferredLanguage), true
	case "userType":
		return "Member", true
	case "mailNickname":
		return strings.SplitN(u.UserPrincipalName, "@", 2)[0], true
	case "otherMails":
		return []string{}, true
	case "proxyAddresses":
		if u.Mail == "" {
			return []string{}, true
		}
		return []string{"SMTP:" + u.Mail}, true
	case "showInAddressList":
		return nil, true
	}
	if _, ok := userProps[strings.ToLower(p)]; ok {
		return nil, true
	}
	return nil, false
}

func (g *group) get(p string) (any, bool) {
	switch p {
	case "id":
		return g.ID, true
	case "displayName":
		return g.DisplayName, true
	case "description":
		return nullable(g.Description), true
	case "mail":
		return nullable(g.Mail), true
	case "mailNickname":
		return g.MailNickname, true
	case "mailEnabled":
		return g.MailEnabled, true
	case "securityEnabled":
		return g.SecurityEnabled, true
	case "groupTypes":
		if g.GroupTypes == nil {
			return []string{}, true
		}
		return g.GroupTypes, true
	case "visibility":
		return nullable(g.Visibility), true
	case "createdDateTime", "renewedDateTime":
		return graphTime(g.Created), true
	case "proxyAddresses":
		if g.Mail == "" {
			return []string{}, true
		}
		return []string{"SMTP:" + g.Mail}, true
	case "resourceBehaviorOptions", "resourceProvisioningOptions", "onPremisesProvisioningErrors", "serviceProvisioningErrors":
		return []string{}, true
	case "securityIdentifier":
		return securityIdentifier(g.ID), true
	case "assignedLicenses", "licenseProcessingState":
		return g.licensingProp(p), true
	}
	if _, ok := groupProps[strings.ToLower(p)]; ok {
		return nil, true
	}
	return nil, false
}

// securityIdentifier renders an object id as the S-1-12-1 SID Entra
// derives from it.
func securityIdentifier(id string) string {
	u, err := uuid.Parse(id)
	if err != nil {
		return ""
	}
	le := func(b []byte) uint32 { return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24 }
	// Graph's SID uses the GUID's little-endian (Microsoft) byte order.
	ms := []byte{u[3], u[2], u[1], u[0], u[5], u[4], u[7], u[6], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]}
	return fmt.Sprintf("S-1-12-1-%d-%d-%d-%d", le(ms[0:4]), le(ms[4:8]), le(ms[8:12]), le(ms[12:16]))
}

// directoryRoleID is the tenant-specific id of an activated directory role.
func directoryRoleID(tenantID, templateID string) string {
	return uuid.NewHash(sha1.New(), uuid.NameSpaceOID, []byte(tenantID+"/"+templateID), 5).String()
}

// render builds the JSON object for a selection of properties.
func render(get func(string) (any, bool), props []string) obj {
	o := make(obj, 0, len(props))
	for _, p := range props {
		if v, ok := get(p); ok {
			o = append(o, kv{p, v})
		}
	}
	return o
}

// userPropsFor resolves the properties a user rendering shows: the $select
// list (canonical casing) or the defaults, cut to basic ones when only
// User.ReadBasic.All was granted.
func (rq *req) userPropsFor(sel []string) []string {
	props := defaultUserProps
	if len(sel) > 0 {
		props = sel
	}
	if !rq.basic {
		return props
	}
	out := make([]string, 0, len(props))
	for _, p := range props {
		if basicUserProps[p] {
			out = append(out, p)
		}
	}
	return out
}

// selectFor validates $select against a type's known properties.
func selectFor(raw string, known map[string]string, typ string) ([]string, error) {
	if raw == "" {
		return nil, nil
	}
	var out []string
	for _, p := range strings.Split(raw, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		c, ok := known[strings.ToLower(p)]
		if !ok {
			if typ == "user" {
				if _, single := singleUserOnly[strings.ToLower(p)]; single {
					return nil, &graphError{status: 501, code: "Request_UnsupportedQuery", message: fmt.Sprintf("The following properties are not supported when listing users: %s.", p)}
				}
			}
			if strings.EqualFold(p, "members") && typ == "group" {
				out = append(out, "members")
				continue
			}
			return nil, badRequest("Could not find a property named '%s' on type 'microsoft.graph.%s'.", p, typ)
		}
		out = append(out, c)
	}
	return out, nil
}
