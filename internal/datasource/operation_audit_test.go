package datasource

import (
	"fmt"
	"testing"

	"github.com/tenantlink/tenantlink/internal/connector"
)

func TestOperationDetail(t *testing.T) {
	add := &connector.Operation{Name: "addUserToGroup", Label: "Add User to Group", Write: true}
	create := &connector.Operation{Name: "createGroup", Label: "Create Group", Write: true}
	licence := &connector.Operation{Name: "assignLicenceToUser", Label: "Assign Licence to User", Write: true}
	member := func(ref, id, result, errMsg string) connector.Item {
		return connector.Item{"user": ref, "userId": id, "groupId": "g-1", "result": result, "error": errMsg}
	}
	var many []connector.Item
	for i := range 23 {
		many = append(many, member(fmt.Sprintf("u%02d@contoso.com", i), fmt.Sprintf("id-%02d", i), "added", ""))
	}
	for _, tc := range []struct {
		name   string
		decl   *connector.Operation
		inputs map[string]any
		items  []connector.Item
		want   string
	}{
		{"users and the group by name", add, map[string]any{"group": "Sales"},
			[]connector.Item{member("adele@contoso.com", "u-1", "added", ""), member("ghost@contoso.com", "", "error", "no such user")},
			"Add User to Group: 2 item(s); group Sales (id g-1); users: adele@contoso.com (id u-1) added, ghost@contoso.com error: no such user"},
		{"group given by id", add, map[string]any{"group": "g-1"}, []connector.Item{member("u-1", "u-1", "already a member", "")},
			"Add User to Group: 1 item(s); group g-1; users: u-1 already a member"},
		{"bounded to 20", add, map[string]any{"group": "g-1"}, many,
			"Add User to Group: 23 item(s); group g-1; users: u00@contoso.com (id id-00) added, u01@contoso.com (id id-01) added, u02@contoso.com (id id-02) added, u03@contoso.com (id id-03) added, u04@contoso.com (id id-04) added, u05@contoso.com (id id-05) added, u06@contoso.com (id id-06) added, u07@contoso.com (id id-07) added, u08@contoso.com (id id-08) added, u09@contoso.com (id id-09) added, u10@contoso.com (id id-10) added, u11@contoso.com (id id-11) added, u12@contoso.com (id id-12) added, u13@contoso.com (id id-13) added, u14@contoso.com (id id-14) added, u15@contoso.com (id id-15) added, u16@contoso.com (id id-16) added, u17@contoso.com (id id-17) added, u18@contoso.com (id id-18) added, u19@contoso.com (id id-19) added and 3 more"},
		{"a created group", create, map[string]any{"displayName": "Project X"},
			[]connector.Item{{"id": "g-9", "displayName": "Project X", "mailNickname": "projectx"}},
			"Create Group: 1 item(s); groups: Project X (id g-9)"},
		{"licences", licence, map[string]any{"licence": "E5"},
			[]connector.Item{{"user": "adele@contoso.com", "userId": "u-1", "skuId": "s-1", "skuPartNumber": "ENTERPRISEPREMIUM", "result": "assigned", "error": ""}},
			"Assign Licence to User: 1 item(s); users: adele@contoso.com (id u-1) licence ENTERPRISEPREMIUM assigned"},
		{"nothing", add, map[string]any{}, nil, "Add User to Group: 0 item(s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := operationDetail(tc.decl, "", tc.inputs, tc.items); got != tc.want {
				t.Errorf("operationDetail:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}
