package web

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/auth"
)

// PreSessionCookie holds a random value for a browser that has not signed
// in yet; the sign-in form's token is derived from it (login CSRF).
const PreSessionCookie = "tl_presession"

// preSessionTTL is how long a sign-in form stays usable.
const preSessionTTL = 2 * time.Hour

// ErrLoginCSRF refuses a sign-in form without the token of this browser's
// pre-session cookie: a form posted from another site, or one loaded so
// long ago that its cookie expired.
var ErrLoginCSRF = tenantlink.Errorf(tenantlink.EFORBIDDEN, "This sign-in form has expired or was not sent from tenantlink: load the sign-in form again and sign in.")

// LoginCSRF returns the token the sign-in form must carry, setting the
// pre-session cookie it is bound to when the browser has none. Another
// site can neither read the cookie nor, without it, make the token.
func (s *Server) LoginCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(PreSessionCookie); err == nil && validPreSession(c.Value) {
		return loginToken(c.Value)
	}
	raw, _ := auth.NewToken("")
	http.SetCookie(w, &http.Cookie{Name: PreSessionCookie, Value: raw, Path: "/", HttpOnly: true, Secure: s.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(preSessionTTL / time.Second)})
	return loginToken(raw)
}

// CheckLoginCSRF verifies a sign-in form's csrf field against the
// browser's pre-session cookie.
func (s *Server) CheckLoginCSRF(r *http.Request) error {
	c, err := r.Cookie(PreSessionCookie)
	if err != nil || !validPreSession(c.Value) {
		return ErrLoginCSRF
	}
	got := r.PostFormValue("csrf")
	if got == "" || !auth.Equal(got, loginToken(c.Value)) {
		return ErrLoginCSRF
	}
	return nil
}

func validPreSession(v string) bool { return len(v) >= 32 && len(v) <= 100 }

// loginToken derives the form token from the cookie value, so that the
// form and the cookie can only be used together and the cookie's value
// never appears in the page.
func loginToken(cookie string) string {
	sum := sha256.Sum256([]byte("tenantlink login csrf\x00" + cookie))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// checkJSONSignIn refuses a JSON sign-in that a page on another site could
// have sent: such pages can send a body without a Content-Type (or with
// text/plain) without asking, but application/json needs a CORS preflight
// that tenantlink never grants, and browsers mark cross-site requests with
// Sec-Fetch-Site.
func checkJSONSignIn(r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return tenantlink.Errorf(tenantlink.EINVALID, "Content-Type must be application/json to sign in")
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return tenantlink.Errorf(tenantlink.EFORBIDDEN, "Sign-in requests from other sites are refused.")
	}
	return nil
}
