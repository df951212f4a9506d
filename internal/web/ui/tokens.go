package ui

import (
	"net/http"
	"strconv"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/web"
)

// tokensData is the API tokens page: the viewer's tokens (everyone's for
// an Administrator), the secret of a token just created (shown once) and
// the change-your-password form.
type tokensData struct {
	Tokens   []*directory.Token
	AllUsers bool   // an Administrator's list: the owner column shows
	Created  string // the secret of the token just created
	Form     tokenForm
	Expiries []expiryChoice
	// LocalPassword: the viewer has a local password to change.
	LocalPassword bool
}

type tokenForm struct {
	Name    string
	Expires string
}

type expiryChoice struct {
	Value, Label string
}

var expiryChoices = []expiryChoice{{"7", "7 days"}, {"30", "30 days"}, {"90", "90 days"}, {"365", "1 year"}, {"", "Never"}}

var tokenNotices = map[string]string{
	"revoked":  "API token revoked",
	"password": "Password changed; your other sessions were signed out",
}

func (h *handler) showTokens(w http.ResponseWriter, r *http.Request) error {
	var ns []notice
	if msg, ok := tokenNotices[r.URL.Query().Get("notice")]; ok {
		ns = append(ns, notice{Message: msg})
	}
	return h.renderTokens(w, r, http.StatusOK, tokensData{Form: tokenForm{Expires: "30"}}, ns)
}

func (h *handler) renderTokens(w http.ResponseWriter, r *http.Request, status int, d tokensData, ns []notice) error {
	p := web.PrincipalFrom(r.Context())
	list, err := h.Tokens.ListTokens(r.Context(), p)
	if err != nil {
		return err
	}
	d.Tokens, d.AllUsers, d.Expiries = list, p.Has(tenantlink.RoleAdministrator), expiryChoices
	d.LocalPassword = p.User != nil && p.User.PasswordHash != ""
	pg := h.newPage(r, "API tokens", "tokens", d)
	pg.Notices = append(pg.Notices, ns...)
	return h.render(w, status, "tokens", pg)
}

func (h *handler) createToken(w http.ResponseWriter, r *http.Request) error {
	f := tokenForm{Name: r.PostFormValue("name"), Expires: r.PostFormValue("expiresInDays")}
	in := directory.TokenInput{Name: f.Name}
	if f.Expires != "" {
		days, err := strconv.Atoi(f.Expires)
		if err != nil || days < 1 {
			return h.renderTokens(w, r, http.StatusBadRequest, tokensData{Form: f},
				[]notice{{Message: "Choose when the token expires.", Error: true}})
		}
		in.ExpiresInDays = days
	}
	raw, _, err := h.Tokens.IssueToken(r.Context(), web.PrincipalFrom(r.Context()), in)
	if fieldError(err) {
		return h.renderTokens(w, r, web.Status(tenantlink.ErrorCode(err)), tokensData{Form: f}, []notice{{Message: tenantlink.ErrorMessage(err), Error: true}})
	}
	if err != nil {
		return err
	}
	// The secret is shown on this answer only: no redirect could carry it.
	return h.renderTokens(w, r, http.StatusCreated, tokensData{Created: raw, Form: tokenForm{Expires: "30"}},
		[]notice{{Message: "API token created: copy it now, it is not shown again"}})
}

// confirmRevokeToken asks before a token is revoked, as deleting a group
// or a data source does; its form posts to revokeToken.
func (h *handler) confirmRevokeToken(w http.ResponseWriter, r *http.Request) error {
	p := web.PrincipalFrom(r.Context())
	t, err := h.Tokens.Token(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	d := struct {
		*directory.Token
		ShowOwner bool
	}{t, p.Has(tenantlink.RoleAdministrator) && t.UserID != p.User.ID}
	return h.render(w, http.StatusOK, "token_revoke", h.newPage(r, "Revoke API token", "tokens", d))
}

func (h *handler) revokeToken(w http.ResponseWriter, r *http.Request) error {
	err := h.Tokens.RevokeToken(r.Context(), web.PrincipalFrom(r.Context()), r.PathValue("id"))
	if tenantlink.ErrorCode(err) == tenantlink.ENOTFOUND {
		return h.renderTokens(w, r, http.StatusNotFound, tokensData{Form: tokenForm{Expires: "30"}}, []notice{{Message: tenantlink.ErrorMessage(err), Error: true}})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/tokens?notice=revoked", http.StatusSeeOther)
	return nil
}

func (h *handler) changePassword(w http.ResponseWriter, r *http.Request) error {
	p := web.PrincipalFrom(r.Context())
	current, next := r.PostFormValue("currentPassword"), r.PostFormValue("newPassword")
	again := func(status int, msg string) error {
		return h.renderTokens(w, r, status, tokensData{Form: tokenForm{Expires: "30"}}, []notice{{Message: msg, Error: true}})
	}
	if next != r.PostFormValue("confirmPassword") {
		return again(http.StatusBadRequest, "The new password and its confirmation differ.")
	}
	in := directory.UserInput{Password: &next, CurrentPassword: &current}
	if formBool(r, "revokeTokens") {
		t := true
		in.RevokeTokens = &t
	}
	ctx := r.Context()
	if sess := web.SessionFrom(ctx); sess != nil {
		ctx = directory.KeepSession(ctx, sess.IDHash)
	}
	_, err := h.Users.UpdateUser(ctx, p, p.User.ID, in)
	switch tenantlink.ErrorCode(err) {
	case "":
	case tenantlink.EINVALID, tenantlink.ETOOMANY:
		return again(web.Status(tenantlink.ErrorCode(err)), tenantlink.ErrorMessage(err))
	default:
		return err
	}
	http.Redirect(w, r, "/tokens?notice=password", http.StatusSeeOther)
	return nil
}
