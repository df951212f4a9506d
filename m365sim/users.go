package m365sim

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/tenantlink/tenantlink/m365sim/odata"
)

func userOrd(u *user) int64           { return u.ord }
func userGetter(u *user) odata.Getter { return u.get }

func (rq *req) listUsers() error {
	lq, err := rq.parseList("u", userProps, "user")
	if err != nil {
		return err
	}
	props := rq.userPropsFor(lq.sel)
	rq.s.mu.RLock()
	pg := paginate(rq.t.users, lq, "u", userOrd, userGetter)
	value := make([]obj, len(pg.items))
	for i, u := range pg.items {
		value[i] = render(u.get, props)
	}
	rq.s.mu.RUnlock()
	rq.collection(selectContext("users", lq.sel), lq, pg.count, pg.next, value)
	return nil
}

func (rq *req) countUsers() error {
	if !rq.eventual() {
		return badRequest("$count is not currently supported.")
	}
	lq, err := rq.parseList("u", userProps, "user")
	if err != nil {
		return err
	}
	lq.count, lq.first, lq.top = true, true, 1
	rq.s.mu.RLock()
	pg := paginate(rq.t.users, lq, "u", userOrd, userGetter)
	rq.s.mu.RUnlock()
	rq.text(200, strconv.Itoa(pg.count))
	return nil
}

func (rq *req) getUser() error {
	sel, err := selectFor(rq.q.Get("$select"), userProps, "user")
	if err != nil {
		return err
	}
	rq.s.mu.RLock()
	defer rq.s.mu.RUnlock()
	u, err := rq.targetUser()
	if err != nil {
		return err
	}
	body := obj{{"@odata.context", rq.context(selectContext("users", sel) + "/$entity")}}
	body = append(body, render(u.get, rq.userPropsFor(sel))...)
	rq.json(200, body)
	return nil
}

var usageLocationRE = regexp.MustCompile(`^[A-Z]{2}$`)

// userPatch is the subset of user properties PATCH accepts here.
type userPatch struct {
	DisplayName, GivenName, Surname, JobTitle, Department, OfficeLocation *string
	CompanyName, EmployeeID, MobilePhone, City, Country, UsageLocation    *string
	Mail                                                                  *string
	AccountEnabled                                                        *bool
	BusinessPhones                                                        *[]string
	Password                                                              *string `json:"password"`
}

func decodePatch(body io.Reader) (map[string]json.RawMessage, error) {
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(body).Decode(&raw); err != nil {
		return nil, badRequest("Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
	}
	return raw, nil
}

var patchableUser = canon("displayName", "givenName", "surname", "jobTitle", "department", "officeLocation", "companyName",
	"employeeId", "mobilePhone", "city", "country", "usageLocation", "accountEnabled", "businessPhones", "mail")

// applyUserPatch validates and applies raw to u; it is shared by Graph's
// PATCH and the control endpoint.
func applyUserPatch(u *user, raw map[string]json.RawMessage, allowPassword bool) error {
	var p userPatch
	for k, v := range raw {
		name, ok := patchableUser[strings.ToLower(k)]
		if !ok {
			if allowPassword && (k == "password" || k == "userPrincipalName") {
				continue
			}
			if k == "passwordProfile" {
				continue
			}
			return badRequest("Invalid property '%s'.", k)
		}
		var err error
		switch name {
		case "accountEnabled":
			err = json.Unmarshal(v, &p.AccountEnabled)
		case "businessPhones":
			err = json.Unmarshal(v, &p.BusinessPhones)
		default:
			var s *string
			err = json.Unmarshal(v, &s)
			if err == nil {
				setStringField(&p, name, s)
			}
		}
		if err != nil {
			return badRequest("Invalid value specified for property '%s' of resource 'User'.", name)
		}
	}
	if allowPassword {
		if v, ok := raw["password"]; ok {
			if err := json.Unmarshal(v, &p.Password); err != nil {
				return badRequest("Invalid value specified for property 'password' of resource 'User'.")
			}
		}
	}
	if p.UsageLocation != nil && *p.UsageLocation != "" && !usageLocationRE.MatchString(*p.UsageLocation) {
		return badRequest("Invalid value specified for property 'usageLocation' of resource 'User'.")
	}
	if p.DisplayName != nil && *p.DisplayName == "" {
		return badRequest("Invalid value specified for property 'displayName' of resource 'User'.")
	}
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&u.DisplayName, p.DisplayName)
	set(&u.GivenName, p.GivenName)
	set(&u.Surname, p.Surname)
	set(&u.JobTitle, p.JobTitle)
	set(&u.Department, p.Department)
	set(&u.OfficeLocation, p.OfficeLocation)
	set(&u.CompanyName, p.CompanyName)
	set(&u.EmployeeID, p.EmployeeID)
	set(&u.MobilePhone, p.MobilePhone)
	set(&u.City, p.City)
	set(&u.Country, p.Country)
	set(&u.UsageLocation, p.UsageLocation)
	set(&u.Mail, p.Mail)
	set(&u.Password, p.Password)
	if p.AccountEnabled != nil {
		u.AccountEnabled = *p.AccountEnabled
	}
	if p.BusinessPhones != nil {
		u.BusinessPhones = *p.BusinessPhones
	}
	return nil
}

func setStringField(p *userPatch, name string, s *string) {
	if s == nil {
		empty := ""
		s = &empty
	}
	switch name {
	case "displayName":
		p.DisplayName = s
	case "givenName":
		p.GivenName = s
	case "surname":
		p.Surname = s
	case "jobTitle":
		p.JobTitle = s
	case "department":
		p.Department = s
	case "officeLocation":
		p.OfficeLocation = s
	case "companyName":
		p.CompanyName = s
	case "employeeId":
		p.EmployeeID = s
	case "mobilePhone":
		p.MobilePhone = s
	case "city":
		p.City = s
	case "country":
		p.Country = s
	case "usageLocation":
		p.UsageLocation = s
	case "mail":
		p.Mail = s
	}
}

func (rq *req) patchUser() error {
	raw, err := decodePatch(rq.r.Body)
	if err != nil {
		return err
	}
	if err := checkODataType(raw, "user"); err != nil {
		return err
	}
	rq.s.mu.Lock()
	defer rq.s.mu.Unlock()
	u, err := rq.targetUser()
	if err != nil {
		return err
	}
	// Validate on a copy so a bad request changes nothing.
	c := *u
	if err := applyUserPatch(&c, raw, false); err != nil {
		return err
	}
	rq.t.unindexUPN(u)
	before := *u
	*u = c
	rq.t.indexUPN(u)
	rq.t.record(change{id: u.ID, props: changedProps(before.get, u.get, userTracked)})
	return rq.noContent()
}

func (rq *req) memberOf() error {
	sel, err := selectFor(rq.q.Get("$select"), groupProps, "group")
	if err != nil {
		return err
	}
	rq.s.mu.RLock()
	defer rq.s.mu.RUnlock()
	u, err := rq.targetUser()
	if err != nil {
		return err
	}
	var value []obj
	for _, g := range rq.t.memberOf(u.ID) {
		props := sel
		if len(props) == 0 {
			props = defaultGroupProps
		}
		o := obj{{"@odata.type", "#microsoft.graph.group"}}
		value = append(value, append(o, render(g.get, props)...))
	}
	for _, role := range u.Roles {
		tmpl := roleTemplates[role]
		o := obj{{"@odata.type", "#microsoft.graph.directoryRole"}}
		all := obj{
			{"id", directoryRoleID(rq.t.ID, tmpl)}, {"deletedDateTime", nil},
			{"description", fmt.Sprintf("Members of the %s role.", role)},
			{"displayName", role}, {"roleTemplateId", tmpl},
		}
		if len(sel) == 0 {
			o = append(o, all...)
		} else {
			for _, p := range sel {
				if v, ok := all.get(p); ok {
					o = append(o, kv{p, v})
				}
			}
		}
		value = append(value, o)
	}
	rq.collection("directoryObjects", nil, 0, nil, value)
	return nil
}
