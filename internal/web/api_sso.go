package web

import (
	"html/template"
	"net/http"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/sso"
)

// ssoStateCookie binds a started single sign-on to the browser that
// started it: the callback must bring the same state in this cookie.
// SameSite=Lax, because Microsoft returns with a top-level cross-site GET.
const ssoStateCookie = "tl_sso_state"

// SSOLinkCookie carries a pending link's single-use token from the
// callback to the link confirmation page (package ui), which replaces it
// on every answer.
const SSOLinkCookie = "tl_sso_link"

// SetSSOLinkCookie sets (token "" clears) the pending link cookie.
func (s *Server) SetSSOLinkCookie(w http.ResponseWriter, token string) {
	c := &http.Cookie{Name: SSOLinkCookie, Value: token, Path: "/auth/sso/", HttpOnly: true, Secure: s.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(sso.LinkTTL.Seconds())}
	if token == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

func (s *Server) getSSOSettings(w http.ResponseWriter, r *http.Request) error {
	set, err := s.cfg.SSO.Get(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, set)
}

func (s *Server) putSSOSettings(w http.ResponseWriter, r *http.Request) error {
	var in sso.Settings
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	set, err := s.cfg.SSO.Put(r.Context(), principal(r), in)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, set)
}

func (s *Server) ssoLogin(w http.ResponseWriter, r *http.Request) error {
	u, state, err := s.cfg.SSO.Begin(r.Context(), r.URL.Query().Get("next"), ClientAddr(r))
	if err != nil {
		return s.ssoFailed(w, r, err)
	}
	http.SetCookie(w, &http.Cookie{Name: ssoStateCookie, Value: state, Path: "/auth/sso/", HttpOnly: true, Secure: s.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(sso.StateTTL.Seconds())})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u, http.StatusFound)
	return nil
}

func (s *Server) ssoCallback(w http.ResponseWriter, r *http.Request) error {
	browserState := ""
	if c, err := r.Cookie(ssoStateCookie); err == nil {
		browserState = c.Value
	}
	http.SetCookie(w, &http.Cookie{Name: ssoStateCookie, Value: "", Path: "/auth/sso/", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	ctx := r.Context()
	res, err := s.cfg.SSO.Complete(ctx, r.URL.Query(), browserState, ClientAddr(r))
	if err != nil {
		return s.ssoFailed(w, r, err)
	}
	if res.Confirm != nil {
		// An existing account needs its password before it is linked.
		s.SetSSOLinkCookie(w, res.Confirm.Token)
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, "/auth/sso/link", http.StatusSeeOther)
		return nil
	}
	// A browser signed in as someone else leaves that session behind.
	if old := SessionFrom(ctx); old != nil {
		if err := s.cfg.Directory.EndSession(ctx, old.IDHash); err != nil {
			return err
		}
	}
	if _, err := s.StartSession(w, r, res.User); err != nil {
		return err
	}
	http.Redirect(w, r, res.Next, http.StatusSeeOther)
	return nil
}

// ssoFailed shows a refused sign-in with the ways forward: trying again,
// or the local sign-in form (which /login?local=1 shows even under auto
// redirect, so a refused person is not bounced back to Microsoft).
func (s *Server) ssoFailed(w http.ResponseWriter, r *http.Request, err error) error {
	code := tenantlink.ErrorCode(err)
	if code == tenantlink.EINTERNAL {
		return err
	}
	if wantsJSON(r) {
		writeError(w, r, err)
		return nil
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(Status(code))
	return ssoFailedPage.Execute(w, map[string]any{"Message": tenantlink.ErrorMessage(err)})
}

var ssoFailedPage = template.Must(template.New("sso").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in failed – tenantlink</title><link rel="stylesheet" href="/static/app.css"></head>
<body><main id="main"><section class="card narrow">
<h1>Sign-in with Microsoft failed</h1>
<p role="alert">{{.Message}}</p>
<p><a class="button" href="/auth/sso/login">Try again</a> <a href="/login?local=1">Sign in with your email and password</a></p>
</section></main></body></html>`))
