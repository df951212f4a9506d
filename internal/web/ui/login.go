package ui

import (
	"net/http"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/directory"
	"github.com/tenantlink/tenantlink/internal/web"
)

type loginData struct {
	Email string
	Next  string
}

func (h *handler) showLogin(w http.ResponseWriter, r *http.Request) error {
	if web.PrincipalFrom(r.Context()) != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	p := h.newPage(r, "Sign in", "", loginData{Next: r.URL.Query().Get("next")})
	return h.render(w, http.StatusOK, "login", p)
}

func (h *handler) login(w http.ResponseWriter, r *http.Request) error {
	email, password := r.PostFormValue("email"), r.PostFormValue("password")
	next := r.PostFormValue("next")
	again := func(status int, msg string) error {
		p := h.newPage(r, "Sign in", "", loginData{Email: email, Next: next})
		p.Notices = []notice{{Message: msg, Error: true}}
		return h.render(w, status, "login", p)
	}
	if email == "" || password == "" {
		return again(http.StatusBadRequest, "Enter your email and password.")
	}
	u, err := h.Directory.SignIn(r.Context(), email, password, web.ClientAddr(r))
	switch tenantlink.ErrorCode(err) {
	case "":
	case tenantlink.EUNAUTHORIZED, tenantlink.ETOOMANY:
		// Both are answers for the person at the form: a wrong password
		// and the rate limiter's "try again in …".
		return again(web.Status(tenantlink.ErrorCode(err)), tenantlink.ErrorMessage(err))
	default:
		return err
	}
	if _, err := h.Server.StartSession(w, r, u); err != nil {
		return err
	}
	if err := directory.Audit(r.Context(), h.Directory.Store, h.Now(), &tenantlink.Principal{User: u}, "session.create", "user:"+u.ID, "ok", web.ClientAddr(r)); err != nil {
		return err
	}
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
	return nil
}

func (h *handler) logout(w http.ResponseWriter, r *http.Request) error {
	if err := h.Server.EndSession(w, r); err != nil {
		return err
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}
