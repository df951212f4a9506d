package identity

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// stsError is one refusal by the identity platform, in Microsoft's terms:
// the OAuth error, the AADSTS number with its message, and for the token
// endpoint the HTTP status and an optional suberror.
type stsError struct {
	status   int
	err      string // OAuth 2.0 error, e.g. "invalid_grant"
	code     int    // AADSTS number
	message  string
	suberror string
}

func (e *stsError) Error() string { return fmt.Sprintf("%s: AADSTS%d: %s", e.err, e.code, e.message) }

func newSTSError(status int, oauthErr string, code int, format string, args ...any) *stsError {
	return &stsError{status: status, err: oauthErr, code: code, message: fmt.Sprintf(format, args...)}
}

// Microsoft's messages for the errors the simulator produces. Wording
// follows the messages the real service returns; the numbers are the ones
// in the AADSTS error code reference.
func errTenantNotFound(tenant string) *stsError {
	return newSTSError(http.StatusBadRequest, "invalid_tenant", 90002,
		"Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", tenant)
}

func errAppNotFound(clientID, tenantName string) *stsError {
	return newSTSError(http.StatusBadRequest, "unauthorized_client", 700016,
		"Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, tenantName)
}

func errMissingParam(name string) *stsError {
	return newSTSError(http.StatusBadRequest, "invalid_request", 900144,
		"The request body must contain the following parameter: '%s'.", name)
}

func errRedirectMismatch(redirectURI, clientID string) *stsError {
	return newSTSError(http.StatusBadRequest, "invalid_request", 50011,
		"The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.", redirectURI, clientID)
}

func errInvalidScope(scope string) *stsError {
	return newSTSError(http.StatusBadRequest, "invalid_scope", 70011,
		"The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", scope)
}

func errConsentRequired(clientID, appName string) *stsError {
	e := newSTSError(http.StatusBadRequest, "invalid_grant", 65001,
		"The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.", clientID, appName)
	e.suberror = "consent_required"
	return e
}

func errBadSecret(clientID string) *stsError {
	return newSTSError(http.StatusUnauthorized, "invalid_client", 7000215,
		"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", clientID)
}

func errNoSecret() *stsError {
	return newSTSError(http.StatusUnauthorized, "invalid_client", 7000218,
		"The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
}

func errMalformedGrant() *stsError {
	return newSTSError(http.StatusBadRequest, "invalid_grant", 9002313,
		"Invalid request. Request is malformed or invalid.")
}

// Error page and JSON bodies carry these diagnostics like Microsoft's do.
type diagnostics struct {
	traceID, correlationID string
	at                     time.Time
}

func (p *Provider) diag(r *http.Request) diagnostics {
	corr := r.Header.Get("client-request-id")
	if _, err := uuid.Parse(corr); err != nil {
		corr = uuid.NewString()
	}
	return diagnostics{traceID: uuid.NewString(), correlationID: corr, at: p.now().UTC()}
}

func (d diagnostics) timestamp() string { return d.at.Format("2006-01-02 15:04:05Z") }

// description is the error_description Microsoft sends: the AADSTS line,
// then trace, correlation and time on CRLF-separated lines.
func (d diagnostics) description(e *stsError) string {
	return fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
		e.code, e.message, d.traceID, d.correlationID, d.timestamp())
}

// tokenErrorBody is the JSON body of a token endpoint (and discovery) error.
type tokenErrorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
	ErrorURI         string `json:"error_uri"`
	Suberror         string `json:"suberror,omitempty"`
}

func (p *Provider) writeJSONError(w http.ResponseWriter, r *http.Request, e *stsError) {
	d := p.diag(r)
	body := tokenErrorBody{
		Error:            e.err,
		ErrorDescription: d.description(e),
		ErrorCodes:       []int{e.code},
		Timestamp:        d.timestamp(),
		TraceID:          d.traceID,
		CorrelationID:    d.correlationID,
		ErrorURI:         p.baseURL() + "/error?code=" + strconv.Itoa(e.code),
		Suberror:         e.suberror,
	}
	p.log.Info("identity: request refused", slog.String("path", r.URL.Path), slog.String("error", e.err), slog.Int("aadsts", e.code))
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, e.status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client has gone if this fails; nothing to tell it
}

// redirectError sends the browser back to the app with an error, as
// Microsoft does once the redirect URI is known to be registered.
func (p *Provider) redirectError(w http.ResponseWriter, r *http.Request, f *flow, e *stsError) {
	d := p.diag(r)
	q := url.Values{}
	if f.kind == flowAdminConsent {
		q.Set("admin_consent", "True")
	}
	q.Set("error", e.err)
	q.Set("error_description", d.description(e))
	q.Set("error_uri", p.baseURL()+"/error?code="+strconv.Itoa(e.code))
	if f.state != "" {
		q.Set("state", f.state)
	}
	p.log.Info("identity: authorization refused", slog.String("client_id", f.clientID), slog.String("error", e.err), slog.Int("aadsts", e.code))
	p.respond(w, f, q)
}

// respond delivers parameters to the app's redirect URI by the flow's
// response mode.
func (p *Provider) respond(w http.ResponseWriter, f *flow, q url.Values) {
	if f.responseMode == "form_post" {
		renderPage(w, http.StatusOK, formPostPage{Action: f.redirectURI, Fields: sortedFields(q)})
		return
	}
	u, _ := url.Parse(f.redirectURI) // validated against the registration already
	if f.responseMode == "fragment" {
		u.Fragment = q.Encode()
	} else {
		existing := u.Query()
		for k, vs := range q {
			existing[k] = vs
		}
		u.RawQuery = existing.Encode()
	}
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusFound)
}

// errorPage renders Microsoft's "Sorry, but we're having trouble signing
// you in." page: the answer when the request cannot be trusted to go back
// to the app (unknown tenant, unknown client, unregistered redirect URI).
func (p *Provider) errorPage(w http.ResponseWriter, r *http.Request, e *stsError) {
	d := p.diag(r)
	p.log.Info("identity: error page", slog.String("path", r.URL.Path), slog.Int("aadsts", e.code))
	renderPage(w, http.StatusBadRequest, errorPageData{
		Code:          fmt.Sprintf("AADSTS%d", e.code),
		Message:       e.message,
		TraceID:       d.traceID,
		CorrelationID: d.correlationID,
		Timestamp:     d.timestamp(),
	})
}

func sortedFields(q url.Values) []field {
	var out []field
	for k, vs := range q {
		for _, v := range vs {
			out = append(out, field{Name: k, Value: v})
		}
	}
	sortFields(out)
	return out
}
