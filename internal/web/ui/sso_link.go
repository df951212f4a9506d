package ui

import (
	"net/http"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/sso"
	"github.com/tenantlink/tenantlink/internal/web"
)

// ssoLinkData is the link confirmation page: single sign-on found an
// existing tenantlink account for the Microsoft account but may link it
// only once the person enters that account's password.
type ssoLinkData struct {
	Message, Email, Confirm string
}

func linkToken(r *http.Request) string {
	if c, err := r.Cookie(web.SSOLinkCookie); err == nil {
		return c.Value
	}
	return ""
}

func (h *handler) renderLink(w http.ResponseWriter, r *http.Request, status int, lp *sso.LinkPrompt, msg string) error {
	h.Server.SetSSOLinkCookie(w, lp.Token)
	w.Header().Set("Cache-Control", "no-store")
	p := h.newPage(r, "Link your Microsoft account", "", ssoLinkData{Message: sso.MsgConfirmLink, Email: lp.Email, Confirm: lp.CSRF})
	if msg != "" {
		p.Notices = []notice{{Message: msg, Error: true}}
	}
	return h.render(w, status, "sso_link", p)
}

// showSSOLink shows the pending link the browser's cookie names.
func (h *handler) showSSOLink(w http.ResponseWriter, r *http.Request) error {
	lp, err := h.SSO.Link(r.Context(), linkToken(r))
	if err != nil {
		h.Server.SetSSOLinkCookie(w, "")
		return err
	}
	return h.renderLink(w, r, http.StatusOK, lp, "")
}

// confirmSSOLink checks the password and, when it is right, links the
// accounts and starts the session.
func (h *handler) confirmSSOLink(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	res, again, err := h.SSO.ConfirmLink(ctx, linkToken(r), r.PostFormValue("confirm"), r.PostFormValue("password"), web.ClientAddr(r))
	if err != nil {
		if again != nil {
			return h.renderLink(w, r, web.Status(tenantlink.ErrorCode(err)), again, tenantlink.ErrorMessage(err))
		}
		h.Server.SetSSOLinkCookie(w, "")
		return err
	}
	h.Server.SetSSOLinkCookie(w, "")
	if err := h.Server.EndSession(w, r); err != nil { // a browser signed in as someone else leaves that session
		return err
	}
	if _, err := h.Server.StartSession(w, r, res.User); err != nil {
		return err
	}
	http.Redirect(w, r, res.Next, http.StatusSeeOther)
	return nil
}

// signedOut is where signing out ends under auto redirect: a page that
// does not move on by itself, so that Microsoft's session does not sign
// the browser straight back in.
func (h *handler) signedOut(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	return h.render(w, http.StatusOK, "signed_out", h.newPage(r, "Signed out", "", nil))
}
