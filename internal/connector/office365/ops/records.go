package ops

import (
	"time"

	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/graph"
)

// userSelect and groupSelect ask Graph for exactly what the records carry:
// smaller pages and one resource unit less per request.
var (
	userSelect = []string{"id", "userPrincipalName", "displayName", "givenName", "surname", "mail", "jobTitle",
		"department", "officeLocation", "companyName", "employeeId", "mobilePhone", "businessPhones", "city",
		"country", "usageLocation", "accountEnabled"}
	groupSelect = []string{"id", "displayName", "description", "mail", "mailNickname", "groupTypes",
		"securityEnabled", "mailEnabled", "visibility", "createdDateTime"}
)

// userRecord flattens a user into the output record. Every output is
// present (empty when Microsoft has no value) so list results fill a table
// with stable columns.
func userRecord(u *graph.User) connector.Item {
	phone := ""
	if len(u.BusinessPhones) > 0 {
		phone = u.BusinessPhones[0]
	}
	return connector.Item{
		"id": u.ID, "userPrincipalName": u.UserPrincipalName, "displayName": u.DisplayName,
		"givenName": u.GivenName, "surname": u.Surname, "mail": u.Mail, "jobTitle": u.JobTitle,
		"department": u.Department, "officeLocation": u.OfficeLocation, "companyName": u.CompanyName,
		"employeeId": u.EmployeeID, "mobilePhone": u.MobilePhone, "businessPhone": phone,
		"city": u.City, "country": u.Country, "usageLocation": u.UsageLocation,
		"accountEnabled": u.AccountEnabled != nil && *u.AccountEnabled,
	}
}

// groupKind derives the group type the way the Microsoft 365 admin centre
// names them.
func groupKind(g *graph.Group) string {
	mail := g.MailEnabled != nil && *g.MailEnabled
	sec := g.SecurityEnabled != nil && *g.SecurityEnabled
	switch {
	case g.IsUnified():
		return "microsoft365"
	case mail && sec:
		return "mailEnabledSecurity"
	case mail:
		return "distribution"
	}
	return "security"
}

func groupRecord(g *graph.Group) connector.Item {
	created := ""
	if g.CreatedDateTime != nil {
		created = g.CreatedDateTime.UTC().Format(time.RFC3339)
	}
	return connector.Item{
		"id": g.ID, "displayName": g.DisplayName, "description": g.Description, "mail": g.Mail,
		"mailNickname": g.MailNickname, "groupType": groupKind(g),
		"securityEnabled": g.SecurityEnabled != nil && *g.SecurityEnabled,
		"mailEnabled":     g.MailEnabled != nil && *g.MailEnabled,
		"visibility":      g.Visibility, "createdDateTime": created,
	}
}
