package identity

import (
	"encoding/base64"
	"math/big"
	"net/http"
	"net/url"
	"strings"
)

// resolveTenant maps the {tenant} path segment to a tenant. For common and
// organizations it returns ok with a zero Tenant: the user's sign-in name
// decides the tenant later.
func (p *Provider) resolveTenant(seg string) (Tenant, bool, bool) {
	switch strings.ToLower(seg) {
	case tenantCommon, tenantOrganizations:
		return Tenant{}, true, true
	}
	t, ok := p.dir.TenantByIDOrDomain(seg)
	return t, false, ok
}

type discoveryDoc struct {
	TokenEndpoint                     string   `json:"token_endpoint"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	JWKSURI                           string   `json:"jwks_uri"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	Issuer                            string   `json:"issuer"`
	RequestURIParameterSupported      bool     `json:"request_uri_parameter_supported"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	DeviceAuthorizationEndpoint       string   `json:"device_authorization_endpoint"`
	HTTPLogoutSupported               bool     `json:"http_logout_supported"`
	FrontchannelLogoutSupported       bool     `json:"frontchannel_logout_supported"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	ClaimsSupported                   []string `json:"claims_supported"`
	KerberosEndpoint                  string   `json:"kerberos_endpoint"`
	TenantRegionScope                 *string  `json:"tenant_region_scope"`
	CloudInstanceName                 string   `json:"cloud_instance_name"`
	CloudGraphHostName                string   `json:"cloud_graph_host_name"`
	MSGraphHost                       string   `json:"msgraph_host"`
	RBACURL                           string   `json:"rbac_url"`
}

// serveDiscovery answers the OpenID Provider configuration. Like
// Microsoft's, a tenant-specific document names the tenant's GUID in every
// endpoint (even when asked by domain), and the common and organizations
// documents carry the literal {tenantid} issuer template.
func (p *Provider) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	seg := r.PathValue("tenant")
	t, generic, ok := p.resolveTenant(seg)
	if !ok {
		p.writeJSONError(w, r, errTenantNotFound(seg))
		return
	}
	base := p.baseURL()
	pathTenant, issuerTenant := t.ID, t.ID
	region := "NA"
	regionPtr := &region
	if generic {
		pathTenant, issuerTenant = strings.ToLower(seg), tenantIDPlaceholder
		regionPtr = nil
	}
	host := base
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		host = u.Host
	}
	doc := discoveryDoc{
		TokenEndpoint:                     base + "/" + pathTenant + "/oauth2/v2.0/token",
		TokenEndpointAuthMethodsSupported: []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		JWKSURI:                           base + "/" + pathTenant + "/discovery/v2.0/keys",
		ResponseModesSupported:            []string{"query", "fragment", "form_post"},
		SubjectTypesSupported:             []string{"pairwise"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		ResponseTypesSupported:            []string{"code", "id_token", "code id_token", "id_token token"},
		ScopesSupported:                   []string{"openid", "profile", "email", "offline_access"},
		Issuer:                            base + "/" + issuerTenant + "/v2.0",
		UserinfoEndpoint:                  base + "/oidc/userinfo",
		AuthorizationEndpoint:             base + "/" + pathTenant + "/oauth2/v2.0/authorize",
		DeviceAuthorizationEndpoint:       base + "/" + pathTenant + "/oauth2/v2.0/devicecode",
		HTTPLogoutSupported:               true,
		FrontchannelLogoutSupported:       true,
		EndSessionEndpoint:                base + "/" + pathTenant + "/oauth2/v2.0/logout",
		ClaimsSupported:                   []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"},
		KerberosEndpoint:                  base + "/" + pathTenant + "/kerberos",
		TenantRegionScope:                 regionPtr,
		CloudInstanceName:                 "microsoftonline.com",
		CloudGraphHostName:                "graph.windows.net",
		MSGraphHost:                       host,
		RBACURL:                           "https://pas.windows.net",
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "max-age=86400, private")
	writeJSON(w, http.StatusOK, doc)
}

type jwk struct {
	Kty               string   `json:"kty"`
	Use               string   `json:"use"`
	Kid               string   `json:"kid"`
	X5t               string   `json:"x5t"`
	N                 string   `json:"n"`
	E                 string   `json:"e"`
	X5c               []string `json:"x5c"`
	CloudInstanceName string   `json:"cloud_instance_name"`
	Issuer            string   `json:"issuer"`
}

// serveKeys publishes the signing key. Every tenant shares the key, as at
// Microsoft; each key names the issuer it signs for.
func (p *Provider) serveKeys(w http.ResponseWriter, r *http.Request) {
	seg := r.PathValue("tenant")
	t, generic, ok := p.resolveTenant(seg)
	if !ok {
		p.writeJSONError(w, r, errTenantNotFound(seg))
		return
	}
	issuerTenant := t.ID
	if generic {
		issuerTenant = tenantIDPlaceholder
	}
	pub := p.signer.key.PublicKey
	k := jwk{
		Kty:               "RSA",
		Use:               "sig",
		Kid:               p.signer.kid,
		X5t:               p.signer.kid,
		N:                 base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E:                 base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		X5c:               []string{base64.StdEncoding.EncodeToString(p.signer.cert)},
		CloudInstanceName: "microsoftonline.com",
		Issuer:            p.baseURL() + "/" + issuerTenant + "/v2.0",
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "max-age=86400, private")
	writeJSON(w, http.StatusOK, map[string][]jwk{"keys": {k}})
}
