package office365

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
)

// body is a token endpoint error in Microsoft's format (graph-contracts.md
// section 13), trace lines included.
func body(oauthErr string, code int, desc string) []byte {
	return []byte(`{"error":"` + oauthErr + `","error_description":"AADSTS` + strconv.Itoa(code) + `: ` + desc +
		`\r\nTrace ID: 0000\r\nCorrelation ID: 1111\r\nTimestamp: 2026-01-01 00:00:00Z","error_codes":[` + strconv.Itoa(code) + `],"suberror":"bad_token"}`)
}

func TestRefreshError(t *testing.T) {
	c := New(Config{Authority: "https://login.example"})
	type want struct {
		Code    string
		Reauth  bool
		Message string
	}
	tests := []struct {
		name   string
		status int
		body   []byte
		want   want
	}{
		{"revoked", 400, body("invalid_grant", 50173, "The provided grant has expired due to it being revoked."),
			want{tenantlink.EUPSTREAM, true, "Microsoft refused the stored authorization (AADSTS50173): the grant was revoked (the account's password was changed or reset, or its sessions were revoked). Click Re-Authorize."}},
		{"inactive 90 days", 400, body("invalid_grant", 700082, "The refresh token has expired due to inactivity."),
			want{tenantlink.EUPSTREAM, true, "Microsoft refused the stored authorization (AADSTS700082): the refresh token expired after 90 days without use. Click Re-Authorize."}},
		{"consent removed", 400, body("invalid_grant", 65001, "The user or administrator has not consented."),
			want{tenantlink.EUPSTREAM, true, "Microsoft refused the stored authorization (AADSTS65001): consent for tenantlink's permissions was removed from the tenant. Click Re-Authorize."}},
		{"MFA required", 400, body("interaction_required", 50076, "Due to a configuration change made by your administrator, you must use multi-factor authentication."),
			want{tenantlink.EUPSTREAM, true, "Microsoft refused the stored authorization (AADSTS50076): multi-factor authentication is now required for this account. Click Re-Authorize."}},
		{"unknown invalid_grant keeps Microsoft's words", 400, body("invalid_grant", 123456, "Something new."),
			want{tenantlink.EUPSTREAM, true, "Microsoft refused the stored authorization (AADSTS123456): Something new. Click Re-Authorize."}},
		{"wrong client secret", 401, body("invalid_client", 7000215, "Invalid client secret provided."),
			want{tenantlink.EUPSTREAM, false, "The client secret of tenantlink's app registration is wrong (AADSTS7000215): fix --ms-client-secret-file."}},
		{"unknown app", 400, body("unauthorized_client", 700016, "Application with identifier 'x' was not found in the directory 'Contoso'."),
			want{tenantlink.EUPSTREAM, false, "tenantlink's app registration was not found in the tenant (AADSTS700016): check --ms-client-id, that the app is multi-tenant, and that it is still consented in the tenant."}},
		{"service down", 503, body("temporarily_unavailable", 50000, "There was an error issuing a token."),
			want{tenantlink.EUNAVAILABLE, false, "Microsoft's sign-in service failed to refresh the access token (AADSTS50000): There was an error issuing a token. Try again later."}},
		{"not JSON", 502, []byte("Bad Gateway"),
			want{tenantlink.EUNAVAILABLE, false, "Microsoft's sign-in service failed to refresh the access token (http_502): Bad Gateway. Try again later."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.refreshError(tokenErrorFrom(tt.status, tt.body), "refresh the access token")
			got := want{tenantlink.ErrorCode(err), errors.Is(err, connector.ErrReauthorize), tenantlink.ErrorMessage(err)}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mapped error (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("network", func(t *testing.T) {
		err := c.refreshError(&url.Error{Op: "Post", URL: "https://login.example/x", Err: errors.New("connection refused")}, "refresh the access token")
		want := "Cannot reach Microsoft's sign-in service at https://login.example to refresh the access token: connection refused"
		if got := tenantlink.ErrorMessage(err); got != want || errors.Is(err, connector.ErrReauthorize) {
			t.Errorf("network error message = %q (re-authorize %v), want %q", got, errors.Is(err, connector.ErrReauthorize), want)
		}
	})
}

func TestAuthorizeError(t *testing.T) {
	tests := []struct {
		name     string
		query    url.Values
		code     string
		contains []string
	}{
		{"admin consent required", url.Values{"error": {"access_denied"}, "error_description": {"AADSTS90094: The grant requires admin permission."}},
			tenantlink.EFORBIDDEN, []string{fmt.Sprintf(notAdminMessage, "AADSTS90094")}},
		{"consent missing", url.Values{"error": {"consent_required"}, "error_description": {"AADSTS65001: The user or administrator has not consented."}},
			tenantlink.EFORBIDDEN, []string{fmt.Sprintf(notAdminMessage, "AADSTS65001")}},
		{"declined", url.Values{"error": {"access_denied"}, "error_description": {"AADSTS65004: User declined to consent to access the app."}},
			tenantlink.EFORBIDDEN, []string{"(AADSTS65004)", "not an administrator of the tenant", "Ask a Global Administrator to click Authorize."}},
		{"access denied without a code", url.Values{"error": {"access_denied"}},
			tenantlink.EFORBIDDEN, []string{"(access_denied)", "Ask a Global Administrator"}},
		{"admin-consent permission_denied", url.Values{"error": {"permission_denied"}},
			tenantlink.EFORBIDDEN, []string{fmt.Sprintf(notAdminMessage, "permission_denied")}},
		{"redirect URI not registered", url.Values{"error": {"invalid_request"}, "error_description": {"AADSTS50011: The redirect URI does not match."}},
			tenantlink.EUPSTREAM, []string{redirectURL, "(AADSTS50011)"}},
		{"other", url.Values{"error": {"server_error"}, "error_description": {"AADSTS50000: There was an error issuing a token.\r\nTrace ID: 1"}},
			tenantlink.EUPSTREAM, []string{"Microsoft refused the sign-in (AADSTS50000): There was an error issuing a token."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := authorizeError(callbackError(tt.query), redirectURL)
			if got := tenantlink.ErrorCode(err); got != tt.code {
				t.Errorf("code = %q, want %q", got, tt.code)
			}
			msg := tenantlink.ErrorMessage(err)
			for _, s := range tt.contains {
				if !strings.Contains(msg, s) {
					t.Errorf("message %q does not contain %q", msg, s)
				}
			}
			if strings.Contains(msg, "Trace ID") {
				t.Errorf("message %q carries Microsoft's trace lines", msg)
			}
		})
	}
}

func TestGrantedPermissions(t *testing.T) {
	got := grantedPermissions("https://graph.microsoft.com/User.Read.All openid https://graph.microsoft.com/GroupMember.Read.All profile offline_access email https://other.example/x.read https://graph.microsoft.com/user.read.all")
	want := []string{"GroupMember.Read.All", "User.Read.All"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("grantedPermissions (-want +got):\n%s", diff)
	}
}

func TestIsGUID(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"72f988bf-86f1-41af-91ab-2d7cd011db47", true},
		{"72F988BF-86F1-41AF-91AB-2D7CD011DB47", true},
		{"organizations", false},
		{"{tenantid}", false},
		{"72f988bf86f141af91ab2d7cd011db47", false},
		{"72f988bf-86f1-41af-91ab-2d7cd011db4g", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := isGUID(tt.in); got != tt.want {
				t.Errorf("isGUID(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
