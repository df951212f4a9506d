package ui

import (
	"net/http"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/web"
)

type userListData struct {
	Users []*tenantlink.User
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

func (h *handler) renderUsers(w http.ResponseWriter, r *http.Request, status int, f userForm, ns []notice) error {
	users, err := h.Directory.ListUsers(r.Context(), web.PrincipalFrom(r.Context()), store.UserFilter{})
	if err != nil {
		return err
	}
	p := h.newPage(r, "Users", "users", userListData{Users: users, Form: f})
	p.Notices = ns
	return h.render(w, status, "user_list", p)
}
