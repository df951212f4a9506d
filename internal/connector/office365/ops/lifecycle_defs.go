package ops

import (
	"github.com/tenantlink/tenantlink/internal/connector"
)

// The operations beyond the first ten (docs/decisions/0017): reading one
// user, the user life cycle, managers, nested membership, group
// administration and group-based licensing. They are declared like the
// ten and run through the same Run/Stream, so the API, the CLI, the
// operations panel and process rules offer them without changes.
const (
	GetUser                   = "GetUser"
	UserLicences              = "UserLicences"
	CreateUser                = "CreateUser"
	UpdateUser                = "UpdateUser"
	DisableUser               = "DisableUser"
	EnableUser                = "EnableUser"
	DeleteUser                = "DeleteUser"
	RestoreUser               = "RestoreUser"
	GetManager                = "GetManager"
	GetDirectReports          = "GetDirectReports"
	ListGroupMembers          = "ListGroupMembers"
	ListUserGroups            = "ListUserGroups"
	CheckMembership           = "CheckMembership"
	UpdateGroup               = "UpdateGroup"
	DeleteGroup               = "DeleteGroup"
	RestoreGroup              = "RestoreGroup"
	AssignLicenceToGroup      = "AssignLicenceToGroup"
	RemoveLicenceFromGroup    = "RemoveLicenceFromGroup"
	RemoveUserFromAllGroups   = "RemoveUserFromAllGroups"
	RemoveAllLicencesFromUser = "RemoveAllLicencesFromUser"
)

// More per-item results.
const (
	ResultCreated         = "created"
	ResultAlreadyExists   = "already exists"
	ResultUpdated         = "updated"
	ResultUnchanged       = "unchanged"
	ResultDisabled        = "disabled"
	ResultAlreadyDisabled = "already disabled"
	ResultEnabled         = "enabled"
	ResultAlreadyEnabled  = "already enabled"
	ResultDeleted         = "deleted"
	ResultAlreadyDeleted  = "already deleted"
	ResultRestored        = "restored"
	ResultNotDeleted      = "not deleted"
	ResultMember          = "member"
	ResultInherited       = "inherited from a group"
)

var (
	pUser = connector.Param{Name: "user", Label: "User", Type: "user", Required: true,
		Description: "The user's object id, userPrincipalName or email."}
	pTransitive = connector.Param{Name: "transitive", Label: "Through nested groups", Type: "boolean", Default: "false",
		Description: "true also follows nested groups; false (the default) lists direct memberships only."}
	// profileInputs are the user properties Create User and Update User
	// set, with Graph's names.
	profileInputs = []connector.Param{
		{Name: "givenName", Label: "First name", Type: "string"},
		{Name: "surname", Label: "Last name", Type: "string"},
		{Name: "jobTitle", Label: "Job title", Type: "string"},
		{Name: "department", Label: "Department", Type: "string"},
		{Name: "officeLocation", Label: "Office location", Type: "string"},
		{Name: "companyName", Label: "Company name", Type: "string"},
		{Name: "employeeId", Label: "Employee id", Type: "string"},
		{Name: "mobilePhone", Label: "Mobile phone", Type: "string"},
		{Name: "businessPhone", Label: "Business phone", Type: "string", Description: "Set as the only entry of businessPhones."},
		{Name: "city", Label: "City", Type: "string"},
		{Name: "country", Label: "Country", Type: "string"},
		{Name: "usageLocation", Label: "Usage location", Type: "string",
			Description: "Two-letter country code (e.g. IE); Microsoft requires one before a licence can be assigned."},
		{Name: "manager", Label: "Manager", Type: "user", Description: "The manager's object id, userPrincipalName or email."},
		{Name: "accountEnabled", Label: "Account enabled", Type: "boolean"},
	}
	userWriteOutputs    = []string{"user", "userId", "result", "error"}
	managerOutputs      = []string{"managerId", "managerUserPrincipalName", "managerDisplayName", "licences"}
	memberOutputs       = []string{"id", "type", "displayName", "userPrincipalName", "mail", "accountEnabled"}
	licenceStateOutputs = []string{"skuId", "skuPartNumber", "productName", "assignment", "groupId", "state", "error", "message"}
	groupLicenceOutputs = []string{"groupId", "skuId", "skuPartNumber", "result", "processingState", "error"}
)

func withInputs(base []connector.Param, more ...connector.Param) []connector.Param {
	return append(append([]connector.Param{}, base...), more...)
}

func init() {
	for k, v := range map[string]string{
		"managerId": "Manager id", "managerUserPrincipalName": "Manager user principal name",
		"managerDisplayName": "Manager display name", "licences": "Licences", "temporaryPassword": "Temporary password",
		"changed": "Changed", "type": "Type", "member": "Member", "assignment": "Assignment", "state": "State",
		"message": "Message", "processingState": "Processing state", "deletedDateTime": "Deleted",
		"restorableUntil": "Restorable until",
	} {
		outputLabels[k] = v
	}
	outputTypes["member"] = "boolean"

	profileCreate := withInputs([]connector.Param{
		{Name: "userPrincipalName", Label: "User principal name", Type: "string", Required: true,
			Description: "name@domain, in one of the tenant's verified domains."},
		{Name: "displayName", Label: "Display name", Type: "string", Required: true},
		{Name: "mailNickname", Label: "Mail nickname", Type: "string", Description: "Derived from the userPrincipalName when empty."},
		{Name: "password", Label: "Password", Type: "string", Default: "temporary", Options: []string{"temporary", "none"},
			Description: "temporary: a generated password, returned once in temporaryPassword and to be changed at first sign-in; none: a random password nobody is told, for accounts that sign in passwordless or through federation."},
	}, profileInputs...)

	defs = append(defs,
		opDef{connector.Operation{Name: GetUser, Label: "Get User", Inputs: []connector.Param{pUser},
			Outputs: outputs(append(append([]string{}, userOutputs...), managerOutputs...)...)}, runGetUser},
		opDef{connector.Operation{Name: UserLicences, Label: "User Licences", Inputs: []connector.Param{pUser},
			Outputs: outputs(licenceStateOutputs...)}, runUserLicences},
		opDef{connector.Operation{Name: CreateUser, Label: "Create User", Write: true, Inputs: profileCreate,
			Outputs: outputs(append(append([]string{}, userOutputs...), "result", "temporaryPassword")...)}, runCreateUser},
		opDef{connector.Operation{Name: UpdateUser, Label: "Update User", Write: true,
			Inputs: withInputs([]connector.Param{pUser, {Name: "displayName", Label: "Display name", Type: "string"}},
				append(profileInputs, connector.Param{Name: "removeManager", Label: "Remove manager", Type: "boolean",
					Description: "true removes the user's manager."})...),
			Outputs: outputs("user", "userId", "result", "changed", "error")}, runUpdateUser},
		opDef{connector.Operation{Name: DisableUser, Label: "Disable User", Write: true, Inputs: []connector.Param{pUsers},
			Outputs: outputs(userWriteOutputs...)}, runDisableUser},
		opDef{connector.Operation{Name: EnableUser, Label: "Enable User", Write: true, Inputs: []connector.Param{pUsers},
			Outputs: outputs(userWriteOutputs...)}, runEnableUser},
		opDef{connector.Operation{Name: DeleteUser, Label: "Delete User", Write: true, Inputs: []connector.Param{pUsers},
			Outputs: outputs(append(append([]string{}, userWriteOutputs...), "restorableUntil")...)}, runDeleteUser},
		opDef{connector.Operation{Name: RestoreUser, Label: "Restore User", Write: true, Inputs: []connector.Param{pUsers},
			Outputs: outputs(userWriteOutputs...)}, runRestoreUser},
		opDef{connector.Operation{Name: GetManager, Label: "Get Manager", Inputs: []connector.Param{pUser},
			Outputs: outputs(userOutputs...)}, runGetManager},
		opDef{connector.Operation{Name: GetDirectReports, Label: "Get Direct Reports", Inputs: []connector.Param{pUser, pMaxRows},
			Outputs: outputs(userOutputs...)}, runGetDirectReports},
		opDef{connector.Operation{Name: ListGroupMembers, Label: "List Group Members", Inputs: []connector.Param{pGroup, pTransitive, pMaxRows},
			Outputs: outputs(memberOutputs...)}, runListGroupMembers},
		opDef{connector.Operation{Name: ListUserGroups, Label: "List User's Groups", Inputs: []connector.Param{pUser, pTransitive, pMaxRows},
			Outputs: outputs(groupOutputs...)}, runListUserGroups},
		opDef{connector.Operation{Name: CheckMembership, Label: "Check Membership", Inputs: []connector.Param{pUsers, pGroup},
			Outputs: outputs("user", "userId", "groupId", "member", "result", "error")}, runCheckMembership},
		opDef{connector.Operation{Name: UpdateGroup, Label: "Update Group", Write: true, Inputs: []connector.Param{pGroup,
			{Name: "displayName", Label: "Display name", Type: "string"},
			{Name: "description", Label: "Description", Type: "string"},
			{Name: "visibility", Label: "Visibility", Type: "string", Options: []string{"Public", "Private"},
				Description: "Public or Private (HiddenMembership can only be chosen when a Microsoft 365 group is created)."},
			{Name: "mailNickname", Label: "Mail nickname", Type: "string"},
		}, Outputs: outputs("groupId", "result", "changed", "error")}, runUpdateGroup},
		opDef{connector.Operation{Name: DeleteGroup, Label: "Delete Group", Write: true, Inputs: []connector.Param{pGroup},
			Outputs: outputs("groupId", "displayName", "groupType", "result", "restorableUntil")}, runDeleteGroup},
		opDef{connector.Operation{Name: RestoreGroup, Label: "Restore Group", Write: true, Inputs: []connector.Param{
			{Name: "group", Label: "Group", Type: "group", Required: true,
				Description: "The deleted Microsoft 365 group's object id or exact display name."}},
			Outputs: outputs("groupId", "displayName", "result")}, runRestoreGroup},
		opDef{connector.Operation{Name: AssignLicenceToGroup, Label: "Assign Licence to Group", Write: true, Inputs: []connector.Param{
			pGroup, pLicence,
			{Name: "disabledPlans", Label: "Disabled plans", Type: "list",
				Description: "Service plans of the licence to leave off, by name (e.g. YAMMER_ENTERPRISE) or id."},
		}, Outputs: outputs(groupLicenceOutputs...)}, runAssignLicenceToGroup},
		opDef{connector.Operation{Name: RemoveLicenceFromGroup, Label: "Remove Licence from Group", Write: true,
			Inputs: []connector.Param{pGroup, pLicence}, Outputs: outputs(groupLicenceOutputs...)}, runRemoveLicenceFromGroup},
		opDef{connector.Operation{Name: RemoveUserFromAllGroups, Label: "Remove User From All Groups", Write: true,
			Inputs: []connector.Param{pUser}, Outputs: outputs("userId", "groupId", "displayName", "result", "error")}, runRemoveUserFromAllGroups},
		opDef{connector.Operation{Name: RemoveAllLicencesFromUser, Label: "Remove All Licences from User", Write: true,
			Inputs: []connector.Param{pUser}, Outputs: outputs("userId", "skuId", "skuPartNumber", "groupId", "result", "error")}, runRemoveAllLicences},
	)
}
