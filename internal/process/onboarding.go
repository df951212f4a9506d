package process

import (
	"context"
	"fmt"

	"github.com/tenantlink/tenantlink"
)

// OnboardingName is the demo process's name.
const OnboardingName = "Employee onboarding"

func ref(name string) Source    { return Source{Field: name} }
func lit(text string) Source    { return Source{Text: &text} }
func output(name string) Source { return Source{Output: name} }

var fromError = Source{Error: true}

// EmployeeOnboarding is the demo's process on the Office 365 data source
// dsID: find the department's group by its exact name and create it when
// there is none, add the employee to it, then assign a licence (setting
// the usage location Microsoft requires first). Every rule maps its error
// into status, and the first failure stops the rest.
func EmployeeOnboarding(dsID string) Definition {
	return Definition{
		Name:        OnboardingName,
		Description: "Puts a new employee in their department's group (created when missing) and assigns a licence.",
		Fields: []Field{
			{Name: "email", Label: "Employee email", Type: TypeText, Required: true},
			{Name: "department", Label: "Department group", Type: TypeText, Required: true},
			{Name: "licence", Label: "Licence", Type: TypeText, Required: true, Default: "ENTERPRISEPACK"},
			{Name: "usageLocation", Label: "Usage location", Type: TypeText, Default: "US"},
			{Name: "groupId", Label: "Group id", Type: TypeText, ReadOnly: true},
			{Name: "membership", Label: "Membership", Type: TypeText, ReadOnly: true},
			{Name: "licenceResult", Label: "Licence result", Type: TypeText, ReadOnly: true},
			{Name: "status", Label: "Status", Type: TypeText, ReadOnly: true},
		},
		Rules: []Rule{
			{
				Title: "Find the department group", DataSource: dsID, Operation: "FindGroups",
				Inputs:  map[string]Source{"query": ref("department"), "field": lit("displayName"), "match": lit("equals")},
				Success: map[string]Source{"groupId": output("id")},
				Error:   map[string]Source{"status": fromError},
			},
			{
				Title: "Create the group when missing", DataSource: dsID, Operation: "CreateGroup",
				Conditions: &Conditions{Groups: []Group{{Conditions: []Condition{{Field: "groupId", Operator: OpIsEmpty}}}}},
				Inputs: map[string]Source{"displayName": ref("department"),
					"description": lit("{{department}} department (created by Employee onboarding)")},
				Success: map[string]Source{"groupId": output("id"), "status": lit("Created the group {{department}}.")},
				Error:   map[string]Source{"status": fromError},
			},
			{
				Title: "Add the employee to the group", DataSource: dsID, Operation: "AddUserToGroup",
				Inputs:  map[string]Source{"user": ref("email"), "group": ref("groupId")},
				Success: map[string]Source{"membership": output("result")},
				Error:   map[string]Source{"status": fromError},
			},
			{
				Title: "Assign the licence", DataSource: dsID, Operation: "AssignLicenceToUser",
				Inputs: map[string]Source{"user": ref("email"), "licence": ref("licence"), "usageLocation": ref("usageLocation")},
				Success: map[string]Source{"licenceResult": output("result"),
					"status": lit("{{email}}: {{membership}} in {{department}}, licence {{licence}} {{licenceResult}}.")},
				Error: map[string]Source{"status": fromError},
			},
		},
	}
}

// SeedDemo creates the Employee onboarding process on data source dsID
// unless a process of that name exists already.
func SeedDemo(ctx context.Context, svc *Service, p *tenantlink.Principal, dsID string) error {
	list, err := svc.List(ctx, p)
	if err != nil {
		return fmt.Errorf("seed demo process: %w", err)
	}
	if byNameFold(list, OnboardingName) != nil {
		return nil
	}
	if _, err := svc.Create(ctx, p, EmployeeOnboarding(dsID)); err != nil {
		return fmt.Errorf("seed demo process: %w", err)
	}
	return nil
}

// NewHiresGroup is the tenant group whose new members the demo onboards.
const NewHiresGroup = "New hires"

// OnboardingNewHiresName is the triggered variant's name.
const OnboardingNewHiresName = "Employee onboarding (New hires)"

// EmployeeOnboardingNewHires is Employee onboarding started by a user
// joining the tenant group "New hires" (decision 0024) instead of its
// form: the user's email comes from the event, the department group is
// "All employees", and the status says who joined.
func EmployeeOnboardingNewHires(dsID string) Definition {
	def := EmployeeOnboarding(dsID)
	def.Name = OnboardingNewHiresName
	def.Description = "Runs Employee onboarding for each user who joins the \"New hires\" group in Microsoft 365: puts them in \"All employees\" (created when missing) and assigns a licence."
	for i := range def.Fields {
		if def.Fields[i].Name == "department" {
			def.Fields[i].Default = "All employees"
		}
	}
	def.Fields = append(def.Fields, Field{Name: "joined", Label: "Joined", Type: TypeDate, ReadOnly: true},
		Field{Name: "employee", Label: "Employee", Type: TypeText, ReadOnly: true})
	def.Trigger = &Trigger{Event: EventMemberAdded, DataSource: dsID, Group: NewHiresGroup,
		Fields: map[string]Source{"email": output("email"), "employee": output("displayName"), "joined": output("date")}}
	return def
}

// SeedDemoNewHires creates the New hires variant on data source dsID
// unless a process of that name exists already. The tenant must have the
// "New hires" group (the trigger is checked there).
func SeedDemoNewHires(ctx context.Context, svc *Service, p *tenantlink.Principal, dsID string) error {
	list, err := svc.List(ctx, p)
	if err != nil {
		return fmt.Errorf("seed demo process: %w", err)
	}
	if byNameFold(list, OnboardingNewHiresName) != nil {
		return nil
	}
	if _, err := svc.Create(ctx, p, EmployeeOnboardingNewHires(dsID)); err != nil {
		return fmt.Errorf("seed demo process: %w", err)
	}
	return nil
}
