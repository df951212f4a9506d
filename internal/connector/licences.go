package connector

import (
	"context"
	"time"

	"github.com/tenantlink/tenantlink"
)

// LicenceReport is a tenant's licence use per SKU and the units that could
// be given back (docs/decisions/0017).
type LicenceReport struct {
	GeneratedAt time.Time    `json:"generatedAt"`
	Users       int          `json:"users"`         // users read
	Requests    int64        `json:"graphRequests"` // upstream requests the report took
	SKUs        []LicenceSKU `json:"skus"`
}

// LicenceSKU is one licence plan's figures. Assigned is what the upstream
// counts as consumed; Available never goes below zero.
// ReclaimableDisabled counts disabled accounts whose licence is assigned
// directly and nowhere else: removing it frees a unit each.
// ReclaimableDuplicate counts users holding the licence both directly and
// through a group: the direct assignment is redundant (removing it frees
// no unit while the group keeps giving it, but it stops the licence
// outliving the group membership).
type LicenceSKU struct {
	SkuID                string        `json:"skuId"`
	SkuPartNumber        string        `json:"skuPartNumber"`
	ProductName          string        `json:"productName"`
	Enabled              int           `json:"enabled"`
	Assigned             int           `json:"assigned"`
	Available            int           `json:"available"`
	ReclaimableDisabled  int           `json:"reclaimableDisabled"`
	ReclaimableDuplicate int           `json:"reclaimableDuplicate"`
	DisabledUsers        []LicenceUser `json:"disabledUsers"`
	DuplicateUsers       []LicenceUser `json:"duplicateUsers"`
	// DisabledThroughGroups are disabled accounts holding the licence only
	// through groups: removing them from the groups frees the units.
	DisabledThroughGroups []LicenceUser `json:"disabledThroughGroups"`
	// GroupErrors are group assignments in an error state (no units left,
	// conflicting plans, …), which consume nothing.
	GroupErrors []LicenceUser `json:"groupErrors"`
}

// LicenceUser is a user behind one of a SKU's figures.
type LicenceUser struct {
	ID                string   `json:"id"`
	UserPrincipalName string   `json:"userPrincipalName"`
	DisplayName       string   `json:"displayName"`
	AccountEnabled    bool     `json:"accountEnabled"`
	GroupIDs          []string `json:"groupIds,omitempty"`
	Error             string   `json:"error,omitempty"`
}

// LicenceReporter is a connector that reports licence use.
type LicenceReporter interface {
	LicenceReport(ctx context.Context, ds *tenantlink.DataSource, creds CredentialStore) (*LicenceReport, error)
	// ReclaimCall names the write operation, with its inputs, that removes
	// the licence skuID from the users: reclaiming runs it like any
	// operation, under the same permission checks and audit.
	ReclaimCall(skuID string, userIDs []string) (operation string, inputs map[string]any)
}
