package graph

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// The calls behind the user, manager, nested-membership, deleted-items and
// group-licensing operations. Each cites the Graph v1.0 page whose
// contract it follows.

// LicenseAssignmentState is one entry of a user's licenseAssignmentStates
// (https://learn.microsoft.com/graph/api/resources/licenseassignmentstate):
// AssignedByGroup is empty for a direct assignment and the group's id for
// an inherited one; State is Active, ActiveWithError, Disabled or Error;
// Error is CountViolation, MutuallyExclusiveViolation, DependencyViolation,
// ProhibitedInUsageLocationViolation, UniquenessViolation or Other (empty
// when assigned successfully).
type LicenseAssignmentState struct {
	SkuID               string     `json:"skuId"`
	AssignedByGroup     string     `json:"assignedByGroup,omitempty"`
	DisabledPlans       []string   `json:"disabledPlans,omitempty"`
	State               string     `json:"state,omitempty"`
	Error               string     `json:"error,omitempty"`
	LastUpdatedDateTime *time.Time `json:"lastUpdatedDateTime,omitempty"`
}

// LicenseProcessingState is a group's licenseProcessingState: QueuedForProcessing,
// ProcessingInProgress or ProcessingComplete
// (https://learn.microsoft.com/graph/api/resources/licenseprocessingstate).
type LicenseProcessingState struct {
	State string `json:"state"`
}

// DeletedObject is an entry of directory/deletedItems: a soft-deleted user
// or group with the time it was deleted (restorable for 30 days).
type DeletedObject struct {
	DirectoryObject
	DeletedDateTime *time.Time `json:"deletedDateTime,omitempty"`
	GroupTypes      []string   `json:"groupTypes,omitempty"`
	MailNickname    string     `json:"mailNickname,omitempty"`
}

// UserLicenceFields is the $select of a user listing that shows every
// licence with how it was assigned (the licence report).
var UserLicenceFields = []string{"id", "userPrincipalName", "displayName", "mail", "accountEnabled",
	"assignedLicenses", "licenseAssignmentStates"}

// CreateUser creates a user (POST /users,
// https://learn.microsoft.com/graph/api/user-post-users). body carries
// Graph's property names: accountEnabled, displayName, mailNickname,
// userPrincipalName and passwordProfile are required by Graph.
func (c *Client) CreateUser(ctx context.Context, body map[string]any) (*User, error) {
	b, err := jsonBody(body)
	if err != nil {
		return nil, err
	}
	var u User
	if err := c.call(ctx, request{method: http.MethodPost, url: c.endpoint("/users", ""), body: b}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// DeleteUser soft-deletes a user: it moves to directory/deletedItems for 30
// days (https://learn.microsoft.com/graph/api/user-delete).
func (c *Client) DeleteUser(ctx context.Context, id string) error {
	return c.call(ctx, request{method: http.MethodDelete, url: c.endpoint(userPath(id), "")}, nil)
}

// UpdateGroup patches a group's properties
// (https://learn.microsoft.com/graph/api/group-update).
func (c *Client) UpdateGroup(ctx context.Context, id string, fields map[string]any) error {
	b, err := jsonBody(fields)
	if err != nil {
		return err
	}
	return c.call(ctx, request{method: http.MethodPatch, url: c.endpoint("/groups/"+seg(id), ""), body: b}, nil)
}

// Manager reads a user's manager (GET /users/{id}/manager,
// https://learn.microsoft.com/graph/api/user-list-manager). A user without
// one gives an error matching ErrNotFound.
func (c *Client) Manager(ctx context.Context, userID string, sel []string) (*User, error) {
	var u User
	q := Query{Select: sel}
	if err := c.call(ctx, request{method: http.MethodGet, url: c.endpoint(userPath(userID)+"/manager", q.encode(nil, 0))}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// SetManager sets a user's manager (PUT /users/{id}/manager/$ref,
// https://learn.microsoft.com/graph/api/user-post-manager).
func (c *Client) SetManager(ctx context.Context, userID, managerID string) error {
	b, err := jsonBody(map[string]string{"@odata.id": c.base + "/users/" + seg(managerID)})
	if err != nil {
		return err
	}
	return c.call(ctx, request{method: http.MethodPut, url: c.endpoint(userPath(userID)+"/manager/$ref", ""), body: b}, nil)
}

// RemoveManager removes a user's manager (DELETE /users/{id}/manager/$ref,
// https://learn.microsoft.com/graph/api/user-delete-manager).
func (c *Client) RemoveManager(ctx context.Context, userID string) error {
	return c.call(ctx, request{method: http.MethodDelete, url: c.endpoint(userPath(userID)+"/manager/$ref", "")}, nil)
}

// DirectReports streams the users reporting to a user
// (https://learn.microsoft.com/graph/api/user-list-directreports).
func (c *Client) DirectReports(ctx context.Context, userID string, q Query, fn func([]User) error) error {
	path := castPath(userPath(userID)+"/directReports", q.Type)
	return list(ctx, c, c.endpoint(path, q.encode(UserFields, defaultTop)), q, fn)
}

// typedGroup is a memberOf entry: groups and directory roles share the
// collection.
type typedGroup struct {
	ODataType string `json:"@odata.type"`
	Group
}

// UserGroups streams the groups a user belongs to: direct (memberOf) or
// through nested groups too (transitiveMemberOf). Directory roles and
// administrative units in those collections are left out.
func (c *Client) UserGroups(ctx context.Context, userID string, transitive bool, q Query, fn func([]Group) error) error {
	rel, top := "/memberOf", 0
	if transitive {
		rel, top = "/transitiveMemberOf", defaultTop
	}
	want := q.Max
	q.Max = 0 // counted here: the entries that are groups
	seen := 0
	errStop := &Error{Op: "stop"}
	err := list(ctx, c, c.endpoint(userPath(userID)+rel, q.encode(GroupFields, top)), q, func(p []typedGroup) error {
		out := make([]Group, 0, len(p))
		for _, e := range p {
			if e.ODataType != "" && e.ODataType != TypeGroup {
				continue
			}
			if want > 0 && seen == want {
				break
			}
			out = append(out, e.Group)
			seen++
		}
		if len(out) > 0 {
			if err := fn(out); err != nil {
				return err
			}
		}
		if want > 0 && seen == want {
			return errStop
		}
		return nil
	})
	if err == errStop {
		return nil
	}
	return err
}

// TransitiveMembers streams a group's members through nested groups
// (https://learn.microsoft.com/graph/api/group-list-transitivemembers).
func (c *Client) TransitiveMembers(ctx context.Context, groupID string, q Query, fn func([]DirectoryObject) error) error {
	path := castPath("/groups/"+seg(groupID)+"/transitiveMembers", q.Type)
	return list(ctx, c, c.endpoint(path, q.encode(nil, defaultTop)), q, fn)
}

// TransitiveMemberOf streams the groups a user belongs to directly or
// through nested groups
// (https://learn.microsoft.com/graph/api/user-list-transitivememberof).
func (c *Client) TransitiveMemberOf(ctx context.Context, userID string, q Query, fn func([]DirectoryObject) error) error {
	path := castPath(userPath(userID)+"/transitiveMemberOf", q.Type)
	return list(ctx, c, c.endpoint(path, q.encode(nil, 0)), q, fn)
}

// CheckMemberGroupsRequest is the $batch item asking which of groupIDs
// (at most 20) a user belongs to, directly or transitively
// (https://learn.microsoft.com/graph/api/directoryobject-checkmembergroups).
// The answer's body is {"value": [the ids among groupIDs]}.
func CheckMemberGroupsRequest(id, userID string, groupIDs []string) BatchRequest {
	b, _ := jsonBody(map[string][]string{"groupIds": nonNil(groupIDs)})
	return BatchRequest{ID: id, Method: http.MethodPost, URL: "/users/" + seg(userID) + "/checkMemberGroups", Body: b}
}

// CheckMemberGroups returns the ids among groupIDs (at most 20) that
// userID belongs to, directly or transitively.
func (c *Client) CheckMemberGroups(ctx context.Context, userID string, groupIDs []string) ([]string, error) {
	b, err := jsonBody(map[string][]string{"groupIds": nonNil(groupIDs)})
	if err != nil {
		return nil, err
	}
	var out struct {
		Value []string `json:"value"`
	}
	if err := c.call(ctx, request{method: http.MethodPost, url: c.endpoint(userPath(userID)+"/checkMemberGroups", ""), body: b}, &out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// DeletedItems streams soft-deleted objects of one type
// ("microsoft.graph.user" or "microsoft.graph.group";
// https://learn.microsoft.com/graph/api/directory-deleteditems-list).
func (c *Client) DeletedItems(ctx context.Context, typ string, q Query, fn func([]DeletedObject) error) error {
	return list(ctx, c, c.endpoint("/directory/deletedItems/"+seg(typ), q.encode(nil, defaultTop)), q, fn)
}

// DeletedItem reads one soft-deleted object
// (https://learn.microsoft.com/graph/api/directory-deleteditems-get).
func (c *Client) DeletedItem(ctx context.Context, id string) (*DeletedObject, error) {
	var o DeletedObject
	if err := c.call(ctx, request{method: http.MethodGet, url: c.endpoint("/directory/deletedItems/"+seg(id), "")}, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// Restore brings a soft-deleted user or Microsoft 365 group back
// (POST /directory/deletedItems/{id}/restore,
// https://learn.microsoft.com/graph/api/directory-deleteditems-restore).
// Security groups are deleted permanently and cannot be restored.
func (c *Client) Restore(ctx context.Context, id string) (*DeletedObject, error) {
	var o DeletedObject
	if err := c.call(ctx, request{method: http.MethodPost, url: c.endpoint("/directory/deletedItems/"+seg(id)+"/restore", "")}, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// AssignGroupLicense adds and removes a group's licences
// (POST /groups/{id}/assignLicense,
// https://learn.microsoft.com/graph/api/group-assignlicense). Entra
// applies them to the group's direct user members in the background;
// each member's licenseAssignmentStates and the group's
// licenseProcessingState tell how far it got.
func (c *Client) AssignGroupLicense(ctx context.Context, groupID string, add []AssignedLicense, remove []string) (*Group, error) {
	adds := make([]AssignedLicense, len(add))
	for i, a := range add {
		a.DisabledPlans = nonNil(a.DisabledPlans)
		adds[i] = a
	}
	b, err := jsonBody(map[string]any{"addLicenses": adds, "removeLicenses": nonNil(remove)})
	if err != nil {
		return nil, err
	}
	var g Group
	if err := c.call(ctx, request{method: http.MethodPost, url: c.endpoint("/groups/"+seg(groupID)+"/assignLicense", ""), body: b}, &g); err != nil {
		return nil, err
	}
	return &g, nil
}

// BatchID numbers $batch items from 1.
func BatchID(i int) string { return strconv.Itoa(i + 1) }
