package ui

import (
	"net/http"
	"net/url"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/web"
)

// candidatesShown bounds the users a member search offers.
const candidatesShown = 20

type groupEditData struct {
	Group *tenantlink.Group
	// Form is the name and roles as shown: the stored ones, or what was
	// submitted when it was refused.
	Form groupForm
	// Members is one page of the members, by name.
	Members []*tenantlink.User
	Page    int
	HasNext bool
	// Search is the member search; Candidates the users it found who are
	// not members yet, and More whether it found more than are shown.
	Search     string
	Candidates []*tenantlink.User
	More       bool
	// SyncDataSource names the data source the group syncs from, if set.
	SyncDataSource string
}

var groupEditNotices = map[string]string{
	"created": "Group created. Add members here, or set up its member sync on the group's sync page.",
	"saved":   "Group saved.",
	"added":   "Members added.",
	"removed": "Members removed.",
}

func (h *handler) showGroupEdit(w http.ResponseWriter, r *http.Request) error {
	var ns []notice
	if msg, ok := groupEditNotices[r.URL.Query().Get("notice")]; ok {
		ns = append(ns, notice{Message: msg})
	}
	return h.renderGroupEdit(w, r, http.StatusOK, nil, ns)
}

// renderGroupEdit shows the edit page; form, when set, is the refused
// name and roles to show back.
func (h *handler) renderGroupEdit(w http.ResponseWriter, r *http.Request, status int, form *groupForm, ns []notice) error {
	ctx := r.Context()
	pr := web.PrincipalFrom(ctx)
	g, err := h.Groups.GetGroup(ctx, pr, r.PathValue("id"))
	if err != nil {
		return err
	}
	d := groupEditData{Group: g, Form: groupForm{Name: g.Name, Roles: g.Roles}, Search: trimmed(r, "q")}
	if form != nil {
		d.Form = *form
	}
	d.Page = pageNumber(r, "page")
	d.Members, d.HasNext, err = h.pageUsers(r, store.UserFilter{Group: g.ID, Sort: "name"}, d.Page)
	if err != nil {
		return err
	}
	if d.Search != "" {
		found, err := h.Users.ListUsers(ctx, pr, store.UserFilter{Search: d.Search, NotGroup: g.ID, Sort: "name", Limit: candidatesShown + 1})
		if err != nil {
			return err
		}
		if len(found) > candidatesShown {
			found, d.More = found[:candidatesShown], true
		}
		d.Candidates = found
	}
	if g.Sync != nil && g.Sync.DataSource != "" {
		d.SyncDataSource = g.Sync.DataSource
		if list, err := h.DataSources.List(ctx, pr, ""); err == nil {
			for _, ds := range list {
				if ds.ID == g.Sync.DataSource {
					d.SyncDataSource = ds.Name
				}
			}
		}
	}
	p := h.newPage(r, g.Name, "groups", d)
	p.Notices = ns
	return h.render(w, status, "group_edit", p)
}

// saveGroup renames the group and sets its roles. The directory service
// refuses a change that leaves no active Administrator.
func (h *handler) saveGroup(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return tenantlink.Errorf(tenantlink.EINVALID, "unreadable form: %s", err.Error())
	}
	id := r.PathValue("id")
	f := groupForm{Name: r.PostFormValue("name"), Roles: formRoles(r)}
	_, err := h.Groups.UpdateGroup(r.Context(), web.PrincipalFrom(r.Context()), id, directory.GroupInput{Name: &f.Name, Roles: &f.Roles})
	if fieldError(err) {
		return h.renderGroupEdit(w, r, web.Status(tenantlink.ErrorCode(err)), &f, []notice{{Message: tenantlink.ErrorMessage(err), Error: true}})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/groups/"+id+"/edit?notice=saved", http.StatusSeeOther)
	return nil
}

// addGroupMembers adds the users ticked in the member search.
func (h *handler) addGroupMembers(w http.ResponseWriter, r *http.Request) error {
	return h.changeGroupMembers(w, r, true)
}

// removeGroupMembers removes the members ticked in the member list.
func (h *handler) removeGroupMembers(w http.ResponseWriter, r *http.Request) error {
	return h.changeGroupMembers(w, r, false)
}

func (h *handler) changeGroupMembers(w http.ResponseWriter, r *http.Request, add bool) error {
	if err := r.ParseForm(); err != nil {
		return tenantlink.Errorf(tenantlink.EINVALID, "unreadable form: %s", err.Error())
	}
	id := r.PathValue("id")
	pr := web.PrincipalFrom(r.Context())
	users := r.PostForm["user"]
	var err error
	done := "removed"
	if add {
		done = "added"
		_, err = h.Groups.AddGroupMembers(r.Context(), pr, id, users)
	} else {
		_, err = h.Groups.RemoveGroupMembers(r.Context(), pr, id, users)
	}
	if fieldError(err) {
		// Keep the search the administrator was in.
		q := r.URL.Query()
		q.Set("q", r.PostFormValue("q"))
		r.URL.RawQuery = q.Encode()
		return h.renderGroupEdit(w, r, web.Status(tenantlink.ErrorCode(err)), nil, []notice{{Message: tenantlink.ErrorMessage(err), Error: true}})
	}
	if err != nil {
		return err
	}
	to := "/groups/" + id + "/edit?notice=" + done
	if q := r.PostFormValue("q"); q != "" && add {
		to += "&q=" + url.QueryEscape(q)
	}
	http.Redirect(w, r, to+"#members", http.StatusSeeOther)
	return nil
}

func (h *handler) confirmGroupDelete(w http.ResponseWriter, r *http.Request) error {
	g, err := h.Groups.GetGroup(r.Context(), web.PrincipalFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.render(w, http.StatusOK, "group_delete", h.newPage(r, "Delete group", "groups", g))
}

// deleteGroup deletes the group; its member sync and scheduled task go
// with it (directory.Service.DeleteGroup).
func (h *handler) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	err := h.Groups.DeleteGroup(r.Context(), web.PrincipalFrom(r.Context()), id)
	if tenantlink.ErrorCode(err) == tenantlink.ECONFLICT {
		return h.renderGroupEdit(w, r, http.StatusConflict, nil, []notice{{Message: tenantlink.ErrorMessage(err), Error: true}})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/groups?notice=deleted", http.StatusSeeOther)
	return nil
}
