package ui

import (
	"net/http"
	"strconv"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
)

type userListData struct {
	Users []*tenantlink.User
	// Search, Sort and Page are the list's query; HasNext says whether
	// another page follows.
	Search  string
	Sort    string
	Page    int
	HasNext bool
	// Links are the pager's and the sortable columns' URLs.
	PrevURL, NextURL, ByEmailURL, ByNameURL string
	// Form holds what the add-user form showed when it was refused.
	Form userForm
}

type userForm struct {
	Email, GivenName, Surname, DisplayName string
	Roles                                  []tenantlink.Role
}

var userNotices = map[string]string{
	"created": "User created",
	"updated": "User saved",
}

func (h *handler) listUsers(w http.ResponseWriter, r *http.Request) error {
	var ns []notice
	if msg, ok := userNotices[r.URL.Query().Get("notice")]; ok {
		ns = append(ns, notice{Message: msg})
	}
	return h.renderUsers(w, r, http.StatusOK, userForm{Roles: []tenantlink.Role{tenantlink.RoleUser}}, ns)
}

// renderUsers shows one page of the users, searched by name or email and
// sorted by email (default) or name.
func (h *handler) renderUsers(w http.ResponseWriter, r *http.Request, status int, f userForm, ns []notice) error {
	d := userListData{Search: trimmed(r, "q"), Sort: r.URL.Query().Get("sort"), Page: pageNumber(r, "page"), Form: f}
	if d.Sort != "name" {
		d.Sort = "email"
	}
	var err error
	d.Users, d.HasNext, err = h.pageUsers(r, store.UserFilter{Search: d.Search, Sort: d.Sort}, d.Page)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	q.Del("notice")
	if d.Page > 1 {
		d.PrevURL = withQuery("/users", q, "page", strconv.Itoa(d.Page-1))
	}
	if d.HasNext {
		d.NextURL = withQuery("/users", q, "page", strconv.Itoa(d.Page+1))
	}
	d.ByEmailURL = withQuery("/users", q, "sort", "", "page", "")
	d.ByNameURL = withQuery("/users", q, "sort", "name", "page", "")
	p := h.newPage(r, "Users", "users", d)
	p.Notices = ns
	return h.render(w, status, "user_list", p)
}
