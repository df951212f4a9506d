// Package ops owns the ten Office 365 operations a data source offers
// (docs/SPEC.md §5): their declared inputs and outputs, strict input
// validation, the resolution of user, group and licence references, the
// Graph calls that carry each operation out in Graph's batch sizes, the
// idempotent per-item results of the write operations, and the translation
// of Microsoft's errors into *tenantlink.Error messages a person can act
// on. Authorization is not its business: the office365 connector hands it
// an authorized *graph.Client.
package ops

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/graph"
)

// Env is what an operation runs with.
type Env struct {
	Graph *graph.Client
	// ReadWrite is the data source's "Read and write users & groups"
	// setting; write operations refuse to run while it is off.
	ReadWrite bool
	Now       func() time.Time
	Logger    *slog.Logger
}

func (e Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e Env) log() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Operation names, as they appear in API paths.
const (
	UserList              = "UserList"
	GroupList             = "GroupList"
	FindUsers             = "FindUsers"
	FindGroups            = "FindGroups"
	CreateGroup           = "CreateGroup"
	AddUserToGroup        = "AddUserToGroup"
	RemoveUserFromGroup   = "RemoveUserFromGroup"
	LicencePlanList       = "LicencePlanList"
	AssignLicenceToUser   = "AssignLicenceToUser"
	RemoveLicenceFromUser = "RemoveLicenceFromUser"
)

// Per-item results of the write operations. They are idempotent: running
// an operation twice gives the second set of results, never an error.
const (
	ResultAdded           = "added"
	ResultAlreadyMember   = "already a member"
	ResultRemoved         = "removed"
	ResultNotMember       = "not a member"
	ResultAssigned        = "assigned"
	ResultAlreadyAssigned = "already assigned"
	ResultNotAssigned     = "not assigned"
	ResultError           = "error"
)

// MaxRows bounds the maxRows input. Without maxRows the list and find
// operations return every match: a 100,000-user tenant is within reach
// (and Stream keeps memory flat while doing it).
const MaxRows = 100000

// maxRefs bounds the users one write operation accepts.
const maxRefs = 100000

// Parameter declarations shared by several operations.
var (
	pMaxRows = connector.Param{Name: "maxRows", Label: "Max rows", Type: "integer",
		Description: "Stop after this many records (1–100000); empty returns every record."}
	pUsers = connector.Param{Name: "user", Label: "User", Type: "users", Required: true,
		Description: "One user or a list: object id, userPrincipalName or email. A text value may list several, separated by commas, semicolons or new lines."}
	pGroup = connector.Param{Name: "group", Label: "Group", Type: "group", Required: true,
		Description: "The group's object id or exact display name."}
	pLicence = connector.Param{Name: "licence", Label: "Licence", Type: "licence", Required: true,
		Description: "A skuId, a skuPartNumber (e.g. ENTERPRISEPACK) or the product name (e.g. Office 365 E3)."}
)

func outputs(names ...string) []connector.Param {
	out := make([]connector.Param, len(names))
	for i, n := range names {
		out[i] = connector.Param{Name: n, Label: outputLabels[n], Type: outputTypes[n]}
		if out[i].Type == "" {
			out[i].Type = "string"
		}
	}
	return out
}

var outputLabels = map[string]string{
	"id": "Id", "userPrincipalName": "User principal name", "displayName": "Display name",
	"givenName": "First name", "surname": "Last name", "mail": "Email", "jobTitle": "Job title",
	"department": "Department", "officeLocation": "Office location", "companyName": "Company name",
	"employeeId": "Employee id", "mobilePhone": "Mobile phone", "businessPhone": "Business phone",
	"city": "City", "country": "Country", "usageLocation": "Usage location", "accountEnabled": "Account enabled",
	"description": "Description", "mailNickname": "Mail nickname", "groupType": "Group type",
	"securityEnabled": "Security enabled", "mailEnabled": "Mail enabled", "visibility": "Visibility",
	"createdDateTime": "Created", "skuId": "SKU id", "skuPartNumber": "SKU part number",
	"productName": "Product name", "enabledUnits": "Enabled units", "consumedUnits": "Consumed units",
	"availableUnits": "Available units", "capabilityStatus": "Status", "servicePlans": "Service plans",
	"user": "User", "userId": "User id", "groupId": "Group id", "result": "Result", "error": "Error",
}

var outputTypes = map[string]string{
	"accountEnabled": "boolean", "securityEnabled": "boolean", "mailEnabled": "boolean",
	"enabledUnits": "integer", "consumedUnits": "integer", "availableUnits": "integer",
}

// userOutputs and groupOutputs are the record fields of docs/SPEC.md
// §5, in its order.
var (
	userOutputs = []string{"id", "userPrincipalName", "displayName", "givenName", "surname", "mail", "jobTitle",
		"department", "officeLocation", "companyName", "employeeId", "mobilePhone", "businessPhone", "city",
		"country", "usageLocation", "accountEnabled"}
	groupOutputs = []string{"id", "displayName", "description", "mail", "mailNickname", "groupType",
		"securityEnabled", "mailEnabled", "visibility", "createdDateTime"}
)

// Enumerations, canonical spelling first in each.
var (
	userFields   = []string{"displayName", "mail", "userPrincipalName", "givenName", "surname", "department", "jobTitle"}
	groupFields  = []string{"displayName", "mail", "mailNickname", "description"}
	matchModes   = []string{"startsWith", "equals", "contains"}
	groupTypes   = []string{"security", "microsoft365"}
	visibilities = []string{"Public", "Private", "HiddenMembership"}
)

type runner func(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error

type opDef struct {
	connector.Operation
	run runner
}

var defs = []opDef{
	{connector.Operation{Name: UserList, Label: "User List",
		Inputs: []connector.Param{pMaxRows}, Outputs: outputs(userOutputs...)}, runUserList},
	{connector.Operation{Name: GroupList, Label: "Group List",
		Inputs: []connector.Param{pMaxRows}, Outputs: outputs(groupOutputs...)}, runGroupList},
	{connector.Operation{Name: FindUsers, Label: "Find Users", Inputs: []connector.Param{
		{Name: "query", Label: "Query", Type: "string", Required: true, Description: "The text to look for."},
		{Name: "field", Label: "Field", Type: "string", Default: "displayName", Options: userFields},
		{Name: "match", Label: "Match", Type: "string", Default: "startsWith", Options: matchModes,
			Description: "contains uses Microsoft's word search and works on displayName only."},
		pMaxRows,
	}, Outputs: outputs(userOutputs...)}, runFindUsers},
	{connector.Operation{Name: FindGroups, Label: "Find Groups", Inputs: []connector.Param{
		{Name: "query", Label: "Query", Type: "string", Required: true, Description: "The text to look for."},
		{Name: "field", Label: "Field", Type: "string", Default: "displayName", Options: groupFields},
		{Name: "match", Label: "Match", Type: "string", Default: "startsWith", Options: matchModes,
			Description: "contains uses Microsoft's word search and works on displayName and description only."},
		pMaxRows,
	}, Outputs: outputs(groupOutputs...)}, runFindGroups},
	{connector.Operation{Name: CreateGroup, Label: "Create Group", Write: true, Inputs: []connector.Param{
		{Name: "displayName", Label: "Display name", Type: "string", Required: true},
		{Name: "groupType", Label: "Group type", Type: "string", Default: "security", Options: groupTypes},
		{Name: "description", Label: "Description", Type: "string"},
		{Name: "mailNickname", Label: "Mail nickname", Type: "string",
			Description: "Derived from the display name when empty."},
		{Name: "visibility", Label: "Visibility", Type: "string", Options: visibilities,
			Description: "Microsoft 365 groups default to Public; HiddenMembership is for Microsoft 365 groups only."},
		{Name: "owners", Label: "Owners", Type: "users", Description: pUsers.Description},
		{Name: "members", Label: "Members", Type: "users", Description: pUsers.Description},
		pAllowDuplicate,
	}, Outputs: outputs(groupOutputs...)}, runCreateGroup},
	{connector.Operation{Name: AddUserToGroup, Label: "Add User to Group", Write: true,
		Inputs:  []connector.Param{pUsers, pGroup},
		Outputs: outputs("user", "userId", "groupId", "result", "error")}, runAddUserToGroup},
	{connector.Operation{Name: RemoveUserFromGroup, Label: "Remove User From Group", Write: true,
		Inputs:  []connector.Param{pUsers, pGroup},
		Outputs: outputs("user", "userId", "groupId", "result", "error")}, runRemoveUserFromGroup},
	{connector.Operation{Name: LicencePlanList, Label: "Licence Plan List", Inputs: []connector.Param{},
		Outputs: outputs("skuId", "skuPartNumber", "productName", "enabledUnits", "consumedUnits",
			"availableUnits", "capabilityStatus", "servicePlans")}, runLicencePlanList},
	{connector.Operation{Name: AssignLicenceToUser, Label: "Assign Licence to User", Write: true, Inputs: []connector.Param{
		pUsers, pLicence,
		{Name: "disabledPlans", Label: "Disabled plans", Type: "list",
			Description: "Service plans of the licence to leave off, by name (e.g. YAMMER_ENTERPRISE) or id."},
		{Name: "usageLocation", Label: "Usage location", Type: "string",
			Description: "Two-letter country code (e.g. IE) set on users that have none; Microsoft requires one before assigning a licence."},
	}, Outputs: outputs("user", "userId", "skuId", "skuPartNumber", "result", "error")}, runAssignLicence},
	{connector.Operation{Name: RemoveLicenceFromUser, Label: "Remove Licence from User", Write: true,
		Inputs:  []connector.Param{pUsers, pLicence},
		Outputs: outputs("user", "userId", "skuId", "skuPartNumber", "result", "error")}, runRemoveLicence},
}

// Operations declares the ten operations, in docs/SPEC.md's order. The
// slices are fresh copies, so callers may modify them.
func Operations() []connector.Operation {
	out := make([]connector.Operation, len(defs))
	for i, d := range defs {
		op := d.Operation
		op.Inputs = slices.Clone(op.Inputs)
		op.Outputs = slices.Clone(op.Outputs)
		for k := range op.Inputs {
			op.Inputs[k].Options = slices.Clone(op.Inputs[k].Options)
		}
		out[i] = op
	}
	return out
}

func lookup(name string) (opDef, bool) {
	for _, d := range defs {
		if d.Name == name {
			return d, true
		}
	}
	return opDef{}, false
}

// Run runs operation name and returns its items.
//
// The write operations report one item per user. When some items failed
// (a user that does not exist, no licences left…) the others still run,
// and Run returns every item together with a *tenantlink.Error that
// summarises the failures: an administrator sees each outcome, and a
// process rule's error mapping still fires. Callers showing a result
// should therefore show items even when err is not nil.
//
// A Graph answer of 401 comes back wrapped (errors.Is(err,
// graph.ErrUnauthorized)) so the connector can refresh the token or mark
// the data source for re-authorization.
func Run(ctx context.Context, env Env, name string, inputs map[string]any) ([]connector.Item, error) {
	var items []connector.Item
	err := Stream(ctx, env, name, inputs, func(page []connector.Item) error {
		items = append(items, page...)
		return nil
	})
	return items, err
}

// Stream is Run delivering items page by page to fn as they arrive, so a
// caller that writes them out (a JSON stream, an import) holds one Graph
// page at a time whatever the tenant's size. fn may keep the slice. An
// error from fn stops the operation and is returned as is.
func Stream(ctx context.Context, env Env, name string, inputs map[string]any, fn func([]connector.Item) error) error {
	d, ok := lookup(name)
	if !ok {
		names := make([]string, len(defs))
		for i, d := range defs {
			names[i] = d.Name
		}
		return tenantlink.Errorf(tenantlink.ENOTFOUND, "There is no Office 365 operation %q; the operations are %s.",
			name, strings.Join(names, ", "))
	}
	in, err := parseInputs(d.Operation, inputs)
	if err != nil {
		return err
	}
	if d.Write && !env.ReadWrite {
		return tenantlink.Errorf(tenantlink.EFORBIDDEN,
			"%s is a write operation: turn on Read and write users & groups for this data source and re-authorize.", d.Label)
	}
	if env.Graph == nil {
		return fmt.Errorf("ops: %s: no Graph client", name)
	}
	log := env.log().With("operation", name)
	start := env.now()
	n := 0
	err = d.run(ctx, env, in, func(items []connector.Item) error {
		n += len(items)
		return fn(items)
	})
	log.DebugContext(ctx, "office 365 operation finished", "items", n, "took", env.now().Sub(start), "ok", err == nil)
	return err
}
