package ui

import (
	"net/http"
	"net/url"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/sso"
	"github.com/tenantlink/tenantlink/internal/web"
)

type loginData struct {
	Email string
	Next  string
	// SSO shows Sign in with Microsoft; Local marks /login?local=1, the
	// local form that auto redirect keeps for the SSO bypass group.
	SSO   bool
	Local bool
}

// ssoSettings reads the single sign-on settings; all off without SSO.
func (h *handler) ssoSettings(r *http.Request) (sso.Settings, error) {
	if h.SSO == nil {
		return sso.Settings{}, nil
	}
	return h.SSO.Current(r.Context())
}

func (h *handler) showLogin(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if web.PrincipalFrom(r.Context()) != nil {
		http.Redirect(w, r, safeNext(q.Get("next")), http.StatusSeeOther)
		return nil
	}
	set, err := h.ssoSettings(r)
	if err != nil {
		return err
	}
	local := q.Get("local") == "1"
	if set.Enabled && set.AutoRedirect && !local {
		to := "/auth/sso/login"
		if next := q.Get("next"); next != "" {
			to += "?next=" + url.QueryEscape(next)
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return nil
	}
	p := h.newPage(r, "Sign in", "", loginData{Next: q.Get("next"), SSO: set.Enabled, Local: local})
	p.CSRF = h.Server.LoginCSRF(w, r)
	return h.render(w, http.StatusOK, "login", p)
}

func (h *handler) login(w http.ResponseWriter, r *http.Request) error {
	email, password := r.PostFormValue("email"), r.PostFormValue("password")
	next := r.PostFormValue("next")
	again := func(status int, msg string) error {
		set, err := h.ssoSettings(r)
		if err != nil {
			return err
		}
		p := h.newPage(r, "Sign in", "", loginData{Email: email, Next: next, SSO: set.Enabled, Local: r.PostFormValue("local") == "1"})
		p.CSRF = h.Server.LoginCSRF(w, r)
		p.Notices = []notice{{Message: msg, Error: true}}
		return h.render(w, status, "login", p)
	}
	if err := h.Server.CheckLoginCSRF(r); err != nil {
		return again(web.Status(tenantlink.ErrorCode(err)), tenantlink.ErrorMessage(err))
	}
	if email == "" || password == "" {
		return again(http.StatusBadRequest, "Enter your email and password.")
	}
	u, err := h.Accounts.SignIn(r.Context(), email, password, web.ClientAddr(r))
	switch tenantlink.ErrorCode(err) {
	case "":
	case tenantlink.EUNAUTHORIZED, tenantlink.ETOOMANY, tenantlink.EFORBIDDEN:
		// Answers for the person at the form: a wrong password, the rate
		// limiter's "try again in …", and single sign-on's "Use Sign in
		// with Microsoft." for people outside the bypass group.
		return again(web.Status(tenantlink.ErrorCode(err)), tenantlink.ErrorMessage(err))
	default:
		return err
	}
	if _, err := h.Server.StartSession(w, r, u); err != nil {
		return err
	}
	if err := h.Accounts.AuditSignIn(r.Context(), u, web.ClientAddr(r)); err != nil {
		return err
	}
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
	return nil
}

func (h *handler) logout(w http.ResponseWriter, r *http.Request) error {
	if err := h.Server.EndSession(w, r); err != nil {
		return err
	}
	// Under auto redirect /login goes straight to Microsoft, whose session
	// would sign the browser in again at once, perhaps as someone else:
	// signing out ends on a page that stays signed out.
	if set, err := h.ssoSettings(r); err == nil && set.Enabled && set.AutoRedirect {
		http.Redirect(w, r, "/signed-out", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}
