package graph

import (
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// User is a Graph user with the properties tenantlink reads or writes.
// Properties not $select-ed arrive as zero values.
type User struct {
	ID                string   `json:"id"`
	UserPrincipalName string   `json:"userPrincipalName,omitempty"`
	DisplayName       string   `json:"displayName,omitempty"`
	GivenName         string   `json:"givenName,omitempty"`
	Surname           string   `json:"surname,omitempty"`
	Mail              string   `json:"mail,omitempty"`
	JobTitle          string   `json:"jobTitle,omitempty"`
	Department        string   `json:"department,omitempty"`
	OfficeLocation    string   `json:"officeLocation,omitempty"`
	CompanyName       string   `json:"companyName,omitempty"`
	EmployeeID        string   `json:"employeeId,omitempty"`
	MobilePhone       string   `json:"mobilePhone,omitempty"`
	BusinessPhones    []string `json:"businessPhones,omitempty"`
	City              string   `json:"city,omitempty"`
	Country           string   `json:"country,omitempty"`
	UsageLocation     string   `json:"usageLocation,omitempty"`
	// AccountEnabled is a pointer because "not selected" and "disabled"
	// must not look alike to an importer that disables users.
	AccountEnabled   *bool             `json:"accountEnabled,omitempty"`
	AssignedLicenses []AssignedLicense `json:"assignedLicenses,omitempty"`
	// LicenseAssignmentStates says, per licence, whether it is direct or
	// inherited from a group and its processing state; Graph returns it
	// only when $select-ed (directory.go).
	LicenseAssignmentStates []LicenseAssignmentState `json:"licenseAssignmentStates,omitempty"`
}

// UserFields is the $select used when a caller passes none: everything
// User carries.
var UserFields = []string{
	"id", "userPrincipalName", "displayName", "givenName", "surname", "mail",
	"jobTitle", "department", "officeLocation", "companyName", "employeeId",
	"mobilePhone", "businessPhones", "city", "country", "usageLocation",
	"accountEnabled", "assignedLicenses",
}

// AssignedLicense is a licence on a user, or one to add in AssignLicense.
type AssignedLicense struct {
	SkuID         string   `json:"skuId"`
	DisabledPlans []string `json:"disabledPlans"`
}

// Group is a Graph group.
type Group struct {
	ID              string     `json:"id"`
	DisplayName     string     `json:"displayName,omitempty"`
	Description     string     `json:"description,omitempty"`
	Mail            string     `json:"mail,omitempty"`
	MailNickname    string     `json:"mailNickname,omitempty"`
	MailEnabled     *bool      `json:"mailEnabled,omitempty"`
	SecurityEnabled *bool      `json:"securityEnabled,omitempty"`
	GroupTypes      []string   `json:"groupTypes,omitempty"`
	Visibility      string     `json:"visibility,omitempty"`
	CreatedDateTime *time.Time `json:"createdDateTime,omitempty"`
	// Group-based licensing, returned only when $select-ed (directory.go).
	AssignedLicenses       []AssignedLicense       `json:"assignedLicenses,omitempty"`
	LicenseProcessingState *LicenseProcessingState `json:"licenseProcessingState,omitempty"`
}

// GroupFields is the default $select for groups.
var GroupFields = []string{
	"id", "displayName", "description", "mail", "mailNickname", "mailEnabled",
	"securityEnabled", "groupTypes", "visibility", "createdDateTime",
}

// IsUnified reports whether g is a Microsoft 365 group.
func (g *Group) IsUnified() bool {
	for _, t := range g.GroupTypes {
		if t == "Unified" {
			return true
		}
	}
	return false
}

// NewGroup is the input of CreateGroup. For a security group leave
// GroupTypes empty; for a Microsoft 365 group set GroupTypes ["Unified"]
// and MailEnabled.
type NewGroup struct {
	DisplayName     string
	Description     string
	MailNickname    string
	MailEnabled     bool
	SecurityEnabled bool
	GroupTypes      []string
	Visibility      string
	OwnerIDs        []string
	MemberIDs       []string
}

// DirectoryObject is an entry of memberOf or members: a group, directory
// role, user, device or service principal. ODataType tells which.
type DirectoryObject struct {
	ODataType      string `json:"@odata.type,omitempty"`
	ID             string `json:"id"`
	DisplayName    string `json:"displayName,omitempty"`
	RoleTemplateID string `json:"roleTemplateId,omitempty"`
	// The user properties a group member listing usually selects; empty
	// for non-users.
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	Mail              string `json:"mail,omitempty"`
	GivenName         string `json:"givenName,omitempty"`
	Surname           string `json:"surname,omitempty"`
	JobTitle          string `json:"jobTitle,omitempty"`
	Department        string `json:"department,omitempty"`
	AccountEnabled    *bool  `json:"accountEnabled,omitempty"`
	SecurityEnabled   *bool  `json:"securityEnabled,omitempty"`
	MailEnabled       *bool  `json:"mailEnabled,omitempty"`
}

// OData types seen in memberOf and members.
const (
	TypeUser          = "#microsoft.graph.user"
	TypeGroup         = "#microsoft.graph.group"
	TypeDirectoryRole = "#microsoft.graph.directoryRole"
)

// SubscribedSKU is a licence plan the tenant subscribes to.
type SubscribedSKU struct {
	ID               string        `json:"id"`
	AccountID        string        `json:"accountId,omitempty"`
	AccountName      string        `json:"accountName,omitempty"`
	AppliesTo        string        `json:"appliesTo,omitempty"`
	CapabilityStatus string        `json:"capabilityStatus,omitempty"`
	ConsumedUnits    int           `json:"consumedUnits"`
	PrepaidUnits     PrepaidUnits  `json:"prepaidUnits"`
	ServicePlans     []ServicePlan `json:"servicePlans,omitempty"`
	SkuID            string        `json:"skuId"`
	SkuPartNumber    string        `json:"skuPartNumber,omitempty"`
	SubscriptionIDs  []string      `json:"subscriptionIds,omitempty"`
}

// PrepaidUnits counts a SKU's seats by state.
type PrepaidUnits struct {
	Enabled   int `json:"enabled"`
	LockedOut int `json:"lockedOut"`
	Suspended int `json:"suspended"`
	Warning   int `json:"warning"`
}

// ServicePlan is one service inside a SKU or licence.
type ServicePlan struct {
	ServicePlanID      string `json:"servicePlanId"`
	ServicePlanName    string `json:"servicePlanName,omitempty"`
	ProvisioningStatus string `json:"provisioningStatus,omitempty"`
	AppliesTo          string `json:"appliesTo,omitempty"`
}

// LicenseDetails is a licence a user holds, directly or through a group.
type LicenseDetails struct {
	ID            string        `json:"id"`
	SkuID         string        `json:"skuId"`
	SkuPartNumber string        `json:"skuPartNumber,omitempty"`
	ServicePlans  []ServicePlan `json:"servicePlans,omitempty"`
}

// Organization is the tenant.
type Organization struct {
	ID                string           `json:"id"`
	DisplayName       string           `json:"displayName,omitempty"`
	TenantType        string           `json:"tenantType,omitempty"`
	CountryLetterCode string           `json:"countryLetterCode,omitempty"`
	VerifiedDomains   []VerifiedDomain `json:"verifiedDomains,omitempty"`
}

// VerifiedDomain is a domain the tenant owns.
type VerifiedDomain struct {
	Name      string `json:"name"`
	IsDefault bool   `json:"isDefault"`
	IsInitial bool   `json:"isInitial"`
}

// Removed is a delta record's @removed annotation. Reason "changed" means
// soft-deleted (restorable), "deleted" permanently deleted.
type Removed struct {
	Reason string `json:"reason"`
}

// DeltaUser is a user change from users/delta. Removed is nil for
// creations, updates and restores.
type DeltaUser struct {
	User
	Removed *Removed `json:"@removed,omitempty"`

	present map[string]bool // the properties the answer carried, null included
}

// Has reports whether the answer carried property name (Graph's spelling,
// e.g. "jobTitle"), null included. In a minimal answer
// (UsersDeltaMinimal) a property it does not carry has not changed; in a
// full answer it has never been set.
func (d *DeltaUser) Has(name string) bool { return d.present[name] }

// UnmarshalJSON decodes d and notes which properties the object carried:
// a minimal delta answer leaves unchanged ones out, and a property set to
// null must not look like one left out.
func (d *DeltaUser) UnmarshalJSON(b []byte) error {
	type plain DeltaUser
	var p plain
	if err := jsonv2.Unmarshal(b, &p); err != nil {
		return err
	}
	var keys map[string]jsontext.Value
	if err := jsonv2.Unmarshal(b, &keys); err != nil {
		return err
	}
	*d = DeltaUser(p)
	d.present = make(map[string]bool, len(keys))
	for k := range keys {
		d.present[k] = true
	}
	return nil
}

// DeltaGroup is a group change from groups/delta. A large group's
// MembersDelta is spread over several records (and pages) with the same ID;
// merge them.
type DeltaGroup struct {
	Group
	Removed      *Removed      `json:"@removed,omitempty"`
	MembersDelta []DeltaMember `json:"members@delta,omitempty"`
}

// DeltaMember is a membership change: added when Removed is nil.
type DeltaMember struct {
	ODataType string   `json:"@odata.type,omitempty"`
	ID        string   `json:"id"`
	Removed   *Removed `json:"@removed,omitempty"`
}

// DeltaPage is one page of a delta round. Exactly one of Users and Groups
// is used, according to the method. Pages may be empty.
type DeltaPage struct {
	Users  []DeltaUser  `json:"users,omitempty"`
	Groups []DeltaGroup `json:"groups,omitempty"`
}

// Result is the outcome for one id of a bulk write: Err nil means done;
// errors.Is(Err, ErrAlreadyExists) means already a member (adds);
// errors.Is(Err, ErrNotFound) means no such object or not a member.
type Result struct {
	ID  string
	Err error
}
