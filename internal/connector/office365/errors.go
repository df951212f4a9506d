package office365

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/oauth2"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
)

// tokenError is the identity platform's OAuth error answer, from the token
// endpoint's JSON body or an authorize redirect's query.
type tokenError struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description"`
	Codes       []int  `json:"error_codes"`
	Suberror    string `json:"suberror"`
}

func (e *tokenError) Error() string {
	s := e.Code
	if d := e.summary(); d != "" {
		s += ": " + d
	}
	if e.Status != 0 {
		s = fmt.Sprintf("%d %s", e.Status, s)
	}
	return s
}

var aadstsRE = regexp.MustCompile(`AADSTS(\d+)`)

// aadsts is the AADSTS number: error_codes when present, else the one the
// description starts with (authorize redirects carry only the description).
func (e *tokenError) aadsts() int {
	if len(e.Codes) > 0 {
		return e.Codes[0]
	}
	if m := aadstsRE.FindStringSubmatch(e.Description); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

// ref is "AADSTS50173", or the OAuth error code when there is no number.
func (e *tokenError) ref() string {
	if n := e.aadsts(); n != 0 {
		return "AADSTS" + strconv.Itoa(n)
	}
	if e.Code != "" {
		return e.Code
	}
	return "no error code"
}

// summary is the description's first line without the "AADSTSnnn: "
// prefix: Microsoft appends trace and correlation ids on later lines,
// which are noise in a status message.
func (e *tokenError) summary() string {
	d := e.Description
	if i := strings.IndexAny(d, "\r\n"); i >= 0 {
		d = d[:i]
	}
	d = strings.TrimSpace(aadstsRE.ReplaceAllString(d, ""))
	d = strings.TrimSpace(strings.TrimPrefix(d, ":"))
	d = strings.TrimRight(d, ".") // messages add their own full stop
	if len(d) > 300 {
		d = d[:300] + "…"
	}
	return d
}

// tokenErrorFrom parses a token endpoint error body.
func tokenErrorFrom(status int, body []byte) *tokenError {
	e := &tokenError{Status: status}
	if json.Unmarshal(body, e) != nil || e.Code == "" {
		e.Code = "http_" + strconv.Itoa(status)
		if len(body) < 300 {
			e.Description = strings.TrimSpace(string(body))
		}
	}
	return e
}

// asTokenError finds the identity platform's error in err, whether it came
// from this package's token requests or from x/oauth2.
func asTokenError(err error) (*tokenError, bool) {
	var te *tokenError
	if errors.As(err, &te) {
		return te, true
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		te = tokenErrorFrom(status, re.Body)
		if te.Code == "" || strings.HasPrefix(te.Code, "http_") && re.ErrorCode != "" {
			te.Code, te.Description = re.ErrorCode, re.ErrorDescription
		}
		return te, true
	}
	return nil, false
}

// callbackError reads an authorize or admin-consent redirect's error.
func callbackError(q url.Values) *tokenError {
	if q.Get("error") == "" {
		return nil
	}
	return &tokenError{Code: q.Get("error"), Description: q.Get("error_description")}
}

// reauthReasons explains the AADSTS codes that mean the stored grant is
// gone for good; each needs a person to authorize again.
var reauthReasons = map[int]string{
	50173:   "the grant was revoked (the account's password was changed or reset, or its sessions were revoked)",
	700082:  "the refresh token expired after 90 days without use",
	70008:   "the refresh token expired",
	70043:   "a Conditional Access sign-in frequency policy requires signing in again",
	700084:  "the refresh token, issued to a single-page app, expired after 24 hours",
	65001:   "consent for tenantlink's permissions was removed from the tenant",
	50076:   "multi-factor authentication is now required for this account",
	50079:   "the account must register for multi-factor authentication",
	50057:   "the account that authorized tenantlink is disabled",
	50053:   "the account that authorized tenantlink is locked",
	50055:   "the password of the account that authorized tenantlink expired",
	50034:   "the account that authorized tenantlink no longer exists",
	54005:   "the authorization code was already redeemed",
	9002313: "the stored refresh token is no longer valid",
}

// reauthError builds the error for a refused grant: a *tenantlink.Error a
// person can act on, wrapping connector.ErrReauthorize so the service
// stops using the data source instead of retrying.
func reauthError(te *tokenError) error {
	reason, ok := reauthReasons[te.aadsts()]
	if !ok {
		reason = te.summary()
		if reason == "" {
			reason = "no reason given"
		}
	}
	return &tenantlink.Error{
		Code:    tenantlink.EUPSTREAM,
		Message: fmt.Sprintf("Microsoft refused the stored authorization (%s): %s. Click Re-Authorize.", te.ref(), reason),
		Err:     fmt.Errorf("%w: %s", connector.ErrReauthorize, te),
	}
}

// configError is an app-registration problem: re-authorizing would not
// help, an operator must fix tenantlink's configuration.
func configError(te *tokenError) (error, bool) {
	var msg string
	switch te.aadsts() {
	case 7000215:
		msg = "The client secret of tenantlink's app registration is wrong (AADSTS7000215): fix --ms-client-secret-file."
	case 7000222:
		msg = "The client secret of tenantlink's app registration has expired (AADSTS7000222): create a new secret and fix --ms-client-secret-file."
	case 700016:
		msg = "tenantlink's app registration was not found in the tenant (AADSTS700016): check --ms-client-id, that the app is multi-tenant, and that it is still consented in the tenant."
	case 700027, 7000216:
		msg = fmt.Sprintf("The credentials of tenantlink's app registration were refused (AADSTS%d): fix --ms-client-secret-file.", te.aadsts())
	case 50011:
		msg = "tenantlink's callback URL is not a redirect URI of its app registration (AADSTS50011): add it to the app registration or fix --public-url."
	case 90002:
		msg = "The Microsoft tenant was not found (AADSTS90002): it may have been deleted."
	case 9001023, 90014:
		msg = fmt.Sprintf("tenantlink sent Microsoft an invalid request (AADSTS%d): %s.", te.aadsts(), te.summary())
	default:
		if te.Code != "invalid_client" && te.Code != "unauthorized_client" {
			return nil, false
		}
		msg = fmt.Sprintf("Microsoft refused tenantlink's app registration (%s): %s. Check --ms-client-id and --ms-client-secret-file.", te.ref(), te.summary())
	}
	return &tenantlink.Error{Code: tenantlink.EUPSTREAM, Message: msg, Err: te}, true
}

// refreshError maps a failed token request (refresh or client credentials)
// to the error callers see. what names the request for other failures.
func (c *Connector) refreshError(err error, what string) error {
	te, ok := asTokenError(err)
	if !ok {
		return &tenantlink.Error{
			Code:    tenantlink.EUNAVAILABLE,
			Message: fmt.Sprintf("Cannot reach Microsoft's sign-in service at %s to %s: %s", c.cfg.Authority, what, netReason(err)),
			Err:     err,
		}
	}
	if cerr, ok := configError(te); ok {
		return cerr
	}
	switch te.Code {
	case "invalid_grant", "interaction_required", "consent_required", "login_required":
		return reauthError(te)
	}
	if te.Status >= 500 || te.Code == "temporarily_unavailable" || te.Code == "server_error" {
		return &tenantlink.Error{
			Code:    tenantlink.EUNAVAILABLE,
			Message: fmt.Sprintf("Microsoft's sign-in service failed to %s (%s): %s. Try again later.", what, te.ref(), te.summary()),
			Err:     te,
		}
	}
	return &tenantlink.Error{
		Code:    tenantlink.EUPSTREAM,
		Message: fmt.Sprintf("Microsoft refused to %s (%s): %s.", what, te.ref(), te.summary()),
		Err:     te,
	}
}

// netReason shortens a transport error for a message: the url.Error's
// method and URL are already in the surrounding text.
func netReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// notAdminMessage is shown when Microsoft's consent or tenantlink's role
// check shows the account cannot grant the permissions.
const notAdminMessage = "Your Microsoft account is not an administrator of the tenant (%s), so it cannot grant tenantlink the permissions it needs. Ask a Global Administrator to click Authorize."

// authorizeError maps an error returned on the authorize or admin-consent
// redirect.
func authorizeError(te *tokenError, redirectURL string) error {
	var msg string
	code := tenantlink.EFORBIDDEN
	switch n := te.aadsts(); {
	case n == 90094 || n == 65001 || n == 90095 || n == 90099 || te.Code == "permission_denied":
		msg = fmt.Sprintf(notAdminMessage, te.ref())
	case n == 65004 || te.Code == "access_denied" || te.Code == "consent_required":
		msg = fmt.Sprintf("The permissions were not granted (%s): either the consent was declined, or your Microsoft account is not an administrator of the tenant, so it cannot grant tenantlink the permissions it needs. Ask a Global Administrator to click Authorize.", te.ref())
	case n == 50011:
		msg = fmt.Sprintf("tenantlink's callback URL %s is not a redirect URI of its app registration (AADSTS50011): add it to the app registration.", redirectURL)
		code = tenantlink.EUPSTREAM
	default:
		if cerr, ok := configError(te); ok {
			return cerr
		}
		msg = fmt.Sprintf("Microsoft refused the sign-in (%s)", te.ref())
		if s := te.summary(); s != "" {
			msg += ": " + s
		}
		msg += ". Start again with Authorize."
		code = tenantlink.EUPSTREAM
	}
	return &tenantlink.Error{Code: code, Message: msg, Err: te}
}
