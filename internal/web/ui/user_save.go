package ui

import (
	"net/http"
	"net/url"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/web"
)

func formRoles(r *http.Request) []tenantlink.Role {
	roles := []tenantlink.Role{}
	for _, v := range r.PostForm["roles"] {
		roles = append(roles, tenantlink.Role(v))
	}
	return roles
}

func (h *handler) createUser(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return tenantlink.Errorf(tenantlink.EINVALID, "unreadable form: %s", err.Error())
	}
	f := userForm{Email: r.PostFormValue("email"), GivenName: r.PostFormValue("givenName"), Surname: r.PostFormValue("surname"),
		DisplayName: r.PostFormValue("displayName"), Roles: formRoles(r)}
	pw := r.PostFormValue("password")
	in := directory.UserInput{Email: &f.Email, GivenName: &f.GivenName, Surname: &f.Surname, DisplayName: &f.DisplayName, Roles: &f.Roles}
	if pw != "" {
		in.Password = &pw
	}
	_, err := h.Users.CreateUser(r.Context(), web.PrincipalFrom(r.Context()), in)
	if fieldError(err) {
		return h.renderUsers(w, r, web.Status(tenantlink.ErrorCode(err)), f, []notice{{Message: tenantlink.ErrorMessage(err), Error: true}})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/users?notice=created", http.StatusSeeOther)
	return nil
}

// updateUser changes roles and the active flag, the two things an
// administrator manages from the list.
func (h *handler) updateUser(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return tenantlink.Errorf(tenantlink.EINVALID, "unreadable form: %s", err.Error())
	}
	roles := formRoles(r)
	active := formBool(r, "active")
	_, err := h.Users.UpdateUser(r.Context(), web.PrincipalFrom(r.Context()), r.PathValue("id"), directory.UserInput{Roles: &roles, Active: &active})
	fromDetail := r.PostFormValue("from") == "detail"
	if fieldError(err) && fromDetail {
		return h.renderUser(w, r, web.Status(tenantlink.ErrorCode(err)), []notice{{Message: tenantlink.ErrorMessage(err), Error: true}})
	}
	if fieldError(err) {
		return h.renderUsers(w, r, web.Status(tenantlink.ErrorCode(err)), userForm{Roles: []tenantlink.Role{tenantlink.RoleUser}}, []notice{{Message: tenantlink.ErrorMessage(err), Error: true}})
	}
	if err != nil {
		return err
	}
	if fromDetail {
		http.Redirect(w, r, "/users/"+url.PathEscape(r.PathValue("id"))+"?notice=updated", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, "/users?notice=updated", http.StatusSeeOther)
	return nil
}
