package ui

import (
	"net/http"
	"strings"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/web"
)

type groupRow struct {
	*tenantlink.Group
	MemberNames []string
	// More counts members beyond the names shown.
	More int
}

type groupListData struct {
	Groups []groupRow
	// Form is what the New group form showed when it was refused.
	Form groupForm
}

type groupForm struct {
	Name  string
	Roles []tenantlink.Role
}

// membersShown bounds the member names listed per group on the list.
const membersShown = 5

var groupNotices = map[string]string{
	"deleted": "Group deleted.",
}

func (h *handler) listGroups(w http.ResponseWriter, r *http.Request) error {
	var ns []notice
	if msg, ok := groupNotices[r.URL.Query().Get("notice")]; ok {
		ns = append(ns, notice{Message: msg})
	}
	return h.renderGroups(w, r, http.StatusOK, groupForm{}, ns)
}

func (h *handler) renderGroups(w http.ResponseWriter, r *http.Request, status int, f groupForm, ns []notice) error {
	pr := web.PrincipalFrom(r.Context())
	groups, err := h.Groups.ListGroups(r.Context(), pr)
	if err != nil {
		return err
	}
	users, err := h.Users.ListUsers(r.Context(), pr, store.UserFilter{})
	if err != nil {
		return err
	}
	emails := make(map[string]string, len(users))
	for _, u := range users {
		emails[u.ID] = u.Email
	}
	rows := make([]groupRow, 0, len(groups))
	for _, g := range groups {
		row := groupRow{Group: g}
		for i, m := range g.Members {
			if i == membersShown {
				row.More = len(g.Members) - membersShown
				break
			}
			if e, ok := emails[m]; ok {
				row.MemberNames = append(row.MemberNames, e)
			} else {
				row.MemberNames = append(row.MemberNames, m)
			}
		}
		rows = append(rows, row)
	}
	p := h.newPage(r, "Groups", "groups", groupListData{Groups: rows, Form: f})
	p.Notices = ns
	return h.render(w, status, "group_list", p)
}

// createGroup is the New group form: name and roles. Members and the
// member sync are set up next, on the group's pages.
func (h *handler) createGroup(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return tenantlink.Errorf(tenantlink.EINVALID, "unreadable form: %s", err.Error())
	}
	f := groupForm{Name: r.PostFormValue("name"), Roles: formRoles(r)}
	g, err := h.Groups.CreateGroup(r.Context(), web.PrincipalFrom(r.Context()), directory.GroupInput{Name: &f.Name, Roles: &f.Roles})
	if fieldError(err) {
		return h.renderGroups(w, r, web.Status(tenantlink.ErrorCode(err)), f, []notice{{Message: tenantlink.ErrorMessage(err), Error: true}})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/groups/"+g.ID+"/edit?notice=created", http.StatusSeeOther)
	return nil
}

// trimmed is s without surrounding spaces, for search boxes.
func trimmed(r *http.Request, name string) string { return strings.TrimSpace(r.URL.Query().Get(name)) }
