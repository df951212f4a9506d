package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tenantlink/tenantlink"
)

// PageError is what an error page shows: the one place that turns a
// handler's error into a person's words for pages and browser routes
// (pageError). The page packages' layout renders it (SetErrorPage).
type PageError struct {
	Status  int
	Title   string // what happened, e.g. "You do not have access to this page"
	Message string // why, in the viewer's terms; never an internal error's detail
	// Reference is the request id of an internal error, which the log's
	// "request failed" line carries too; empty for other errors.
	Reference string
	// Back is where the viewer came from on this site (the Referer's path
	// and query), when it is another page than this one; "" otherwise.
	Back string
	// SignIn is the sign-in page that returns to Back (or Home), for a
	// form sent after the session ended (401); "" otherwise.
	SignIn string
}

// ErrorPageFunc renders a PageError with its status.
type ErrorPageFunc func(w http.ResponseWriter, r *http.Request, e PageError) error

// SetErrorPage sets how pages and browser routes show errors: package ui
// sets the layout's error page when it mounts its routes. Until then (and
// on servers without pages) a plain page with the same words answers.
func (s *Server) SetErrorPage(f ErrorPageFunc) { s.errorPage = f }

// pageError words err for the viewer. What the services say is kept
// (it names the role that is missing, the thing that was not found, the
// conflict), under a title saying what kind of refusal it is; an internal
// error says only that something went wrong and gives the request id.
func pageError(r *http.Request, err error) PageError {
	code := tenantlink.ErrorCode(err)
	e := PageError{Status: Status(code), Message: sentence(tenantlink.ErrorMessage(err)), Back: backPath(r)}
	switch code {
	case tenantlink.EINVALID:
		e.Title = "This request could not be used"
	case tenantlink.EUNAUTHORIZED:
		// A GET goes to the sign-in page instead (wrap); this is a form
		// sent after the session ended or was signed out elsewhere.
		e.Title = "You are signed out"
		e.Message = "Your session ended (or you signed out in another tab), so this was not done. Sign in again, then repeat it."
		next := e.Back
		if next == "" {
			next = "/"
		}
		e.SignIn = "/login?next=" + url.QueryEscape(next)
	case tenantlink.EFORBIDDEN:
		e.Title = "You do not have access to this page"
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			e.Title = "You may not do this"
		}
	case tenantlink.ENOTFOUND:
		// The services answer an id the viewer may not see exactly as an
		// unknown one (decision 0023); the page says both possibilities.
		e.Title = "Not found"
		if p := PrincipalFrom(r.Context()); p.Has(tenantlink.RoleAdministrator) {
			// An Administrator may see everything: nothing is hidden.
			e.Message += " It may have been deleted, or the address is wrong."
		} else {
			e.Message += " It may have been deleted, or you may not have access to it."
		}
	case tenantlink.ECONFLICT:
		e.Title = "This could not be done"
	case tenantlink.ETOOLARGE:
		e.Title = "Too large"
	case tenantlink.ETOOMANY:
		e.Title = "Too many requests"
	case tenantlink.EUPSTREAM:
		e.Title = "Microsoft 365 refused the request"
	case tenantlink.EUNAVAILABLE:
		e.Title = "Unavailable right now"
	default:
		e.Title = "Something went wrong on our side"
		e.Message = "tenantlink could not finish this request. The details are in the server log: give an administrator the reference below."
		e.Reference = RequestID(r.Context())
	}
	return e
}

// sentence starts msg with a capital letter and ends it with a full stop,
// so that the services' lower-case refusals read as sentences on a page.
func sentence(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return msg
	}
	first, n := utf8.DecodeRuneInString(msg)
	msg = string(unicode.ToUpper(first)) + msg[n:]
	switch msg[len(msg)-1] {
	case '.', '!', '?', ':':
		return msg
	}
	return msg + "."
}

// backPath is the Referer's path and query when it is a page of this site
// other than the one that failed (Referrer-Policy same-origin sends it
// only from our own pages).
func backPath(r *http.Request) string {
	ref, err := url.Parse(r.Header.Get("Referer"))
	if err != nil || ref.Host != r.Host || ref.Path == "" || ref.Path[0] != '/' || strings.HasPrefix(ref.Path, "//") {
		return ""
	}
	back := ref.EscapedPath()
	if ref.RawQuery != "" {
		back += "?" + ref.RawQuery
	}
	if back == r.URL.RequestURI() || strings.HasPrefix(ref.Path, "/login") {
		return ""
	}
	return back
}

func (s *Server) writeErrorPage(w http.ResponseWriter, r *http.Request, err error) {
	e := pageError(r, err)
	if s.errorPage != nil {
		if rerr := s.errorPage(w, r, e); rerr == nil {
			return
		} else {
			s.cfg.Logger.Error("render error page", "request_id", RequestID(r.Context()), "err", rerr)
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	_ = fallbackErrorPage.Execute(w, e)
}

var fallbackErrorPage = template.Must(template.New("err").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} – tenantlink</title><link rel="stylesheet" href="/static/app.css"></head>
<body><main><h1>{{.Title}}</h1><p role="alert">{{.Message}}</p>{{with .Reference}}<p>Reference: <code>{{.}}</code></p>{{end}}
<p>{{with .SignIn}}<a href="{{.}}">Sign in</a> · {{end}}{{with .Back}}<a href="{{.}}">Back</a> · {{end}}<a href="/">Home</a></p></main></body></html>`))

// RequestID is the id Handler gave the request (also its X-Request-Id
// header and the request_id of its log lines), or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// newRequestID is 12 random hex digits: short enough to read out, enough
// to find one request in a log.
func newRequestID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
