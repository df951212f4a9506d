// Package web serves tenantlink over HTTP: the JSON API of docs/SPEC.md
// §12, the OAuth callback, health, readiness and metrics, plus the
// middleware every page shares (sessions, API tokens, CSRF, security
// headers, request logging). Every route is a row of one route table
// (routes.go; the HTML pages' rows come from packages web/ui, web/syncui
// and web/processui and are mounted on the same Server). Handlers reach
// the services through small interfaces (services.go) and return errors
// through one adapter that maps error codes to HTTP status in one place.
package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"reflect"
	"runtime/debug"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/auth"
	"github.com/tenantlink/tenantlink/internal/store"
)

// SessionCookie is the name of the session cookie.
const SessionCookie = "tl_session"

// SessionTTL is how long a browser session lasts without signing in again.
const SessionTTL = 12 * time.Hour

// MaxBody is the largest request body accepted.
const MaxBody = 1 << 20

// Config wires a Server. The services are the interfaces of services.go;
// a nil one leaves its routes out of the table (Directory and DataSources
// are always needed).
type Config struct {
	Directory   Directory
	DataSources DataSources
	SSO         SSO        // single sign-on
	Processes   Processes  // the process API
	Sync        *SyncAPI   // scheduled tasks, their webhook, group member sync
	GraphHooks  GraphHooks // Microsoft Graph change notifications
	Metrics     Metrics
	Logger      *slog.Logger
	PublicURL   string // e.g. "https://tenantlink.example.com"; cookies are Secure when https
	Now         func() time.Time
	// Ping reports whether the database answers (readiness); nil: ready.
	Ping func(ctx context.Context) error
	// Ready reports readiness beyond the database (optional).
	Ready func(ctx context.Context) error
	// TrustedProxies are the reverse proxies (load balancers) whose
	// X-Forwarded-For is believed when finding the client's address; none:
	// the TCP peer is the client (see ParseTrustedProxies).
	TrustedProxies []netip.Prefix
	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsToken string
	// MetricsElsewhere keeps /metrics off this handler: it is served on
	// its own address (MetricsHandler).
	MetricsElsewhere bool
}

// Server is tenantlink's HTTP handler.
type Server struct {
	cfg    Config
	mux    *http.ServeMux
	routes []Route
	kinds  map[string]Kind // by ServeMux pattern, for the panic handler
	secure bool
	// errorPage shows errors of pages and browser routes (SetErrorPage).
	errorPage ErrorPageFunc
}

// New builds the server and mounts this package's routes (see table).
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Scheme == "https" {
		s.secure = true
	}
	s.Mount(s.table()...)
	return s
}

// Routes is the route table: every route mounted, in mounting order.
func (s *Server) Routes() []Route { return s.routes }

// Handler returns the root handler with logging, metrics and headers.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.cfg.Now()
		rec := &statusRecorder{ResponseWriter: w, code: 200}
		h := rec.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self' http: https:")
		_, pattern := s.mux.Handler(r)
		route, kind := pattern, s.kinds[pattern]
		if i := strings.IndexByte(route, ' '); i >= 0 {
			route = route[i+1:]
		}
		if route == "" {
			route = "unmatched"
		}
		defer func() {
			if v := recover(); v != nil {
				s.cfg.Logger.Error("panic", "route", route, "request_id", RequestID(r.Context()), "panic", v, "stack", string(debug.Stack()))
				if !rec.wrote {
					if (kind == Page || kind == Browser) && !wantsJSON(r) {
						s.writeErrorPage(rec, r, fmt.Errorf("panic: %v", v))
					} else {
						writeError(rec, r, tenantlink.Errorf(tenantlink.EINTERNAL, "Internal error."))
					}
				}
			}
			d := s.cfg.Now().Sub(start)
			if s.cfg.Metrics != nil {
				s.cfg.Metrics.ObserveHTTP(r.Method, route, rec.code, d)
			}
			s.cfg.Logger.Debug("http", "method", r.Method, "route", route, "status", rec.code, "duration", d)
		}()
		id := newRequestID()
		h.Set("X-Request-Id", id)
		ctx := context.WithValue(r.Context(), clientKey, s.ClientAddr(r))
		r = r.WithContext(context.WithValue(ctx, requestIDKey, id))
		s.mux.ServeHTTP(rec, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (r *statusRecorder) WriteHeader(c int) {
	if !r.wrote {
		r.code, r.wrote = c, true
	}
	r.ResponseWriter.WriteHeader(c)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

type ctxKey int

const (
	principalKey ctxKey = iota
	sessionKey
	clientKey
	requestIDKey
)

// PrincipalFrom returns the request's principal, or nil when anonymous.
func PrincipalFrom(ctx context.Context) *tenantlink.Principal {
	p, _ := ctx.Value(principalKey).(*tenantlink.Principal)
	return p
}

// SessionFrom returns the request's browser session, or nil.
func SessionFrom(ctx context.Context) *store.Session {
	s, _ := ctx.Value(sessionKey).(*store.Session)
	return s
}

// CSRFToken returns the CSRF token forms must carry, or "".
func CSRFToken(ctx context.Context) string {
	if s := SessionFrom(ctx); s != nil {
		return s.CSRFToken
	}
	return ""
}

// wrap authenticates, checks CSRF and adapts an error-returning handler.
func (s *Server) wrap(route string, public, isAPI bool, h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2, err := s.authenticate(r)
		if err == nil && !public && PrincipalFrom(r2.Context()) == nil {
			err = tenantlink.Errorf(tenantlink.EUNAUTHORIZED, "Sign in first (session cookie or Authorization: Bearer <API token>).")
		}
		if err == nil {
			err = s.checkCSRF(r2, isAPI)
		}
		if err == nil {
			err = h(w, r2)
		}
		if err == nil {
			return
		}
		// A browser without a session goes to sign in. A request that
		// sent credentials of its own (Authorization) is refused instead:
		// a client would send them again to the sign-in page, for ever.
		if !isAPI && tenantlink.ErrorCode(err) == tenantlink.EUNAUTHORIZED && r.Method == http.MethodGet && r.Header.Get("Authorization") == "" {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if tenantlink.ErrorCode(err) == tenantlink.EINTERNAL {
			s.cfg.Logger.Error("request failed", "route", route, "method", r.Method, "request_id", RequestID(r.Context()), "err", err)
		}
		if isAPI || wantsJSON(r) {
			writeError(w, r, err)
			return
		}
		// r2: the error page shows the menu and the signed-in user.
		s.writeErrorPage(w, r2, err)
	})
}

func wantsJSON(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || strings.Contains(r.Header.Get("Accept"), "application/json")
}

func (s *Server) authenticate(r *http.Request) (*http.Request, error) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		raw, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || raw == "" {
			return r, tenantlink.Errorf(tenantlink.EUNAUTHORIZED, "Authorization must be \"Bearer <API token>\".")
		}
		u, err := s.cfg.Directory.Authenticate(ctx, raw)
		if err != nil {
			return r, err
		}
		p, err := s.cfg.Directory.Principal(ctx, u, "token")
		if err != nil {
			return r, err
		}
		return r.WithContext(context.WithValue(ctx, principalKey, p)), nil
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 200 {
		return r, nil
	}
	sess, u, err := s.cfg.Directory.Session(ctx, auth.HashToken(c.Value), s.cfg.Now())
	if err != nil {
		return r, err
	}
	if sess == nil {
		return r, nil
	}
	p, err := s.cfg.Directory.Principal(ctx, u, "session")
	if err != nil {
		return r, err
	}
	ctx = context.WithValue(ctx, principalKey, p)
	ctx = context.WithValue(ctx, sessionKey, sess)
	return r.WithContext(ctx), nil
}

// checkCSRF requires the session's CSRF token on unsafe requests made with
// the session cookie (header X-CSRF-Token, or form field csrf for pages).
// Token-authenticated requests carry no ambient credential and need none.
func (s *Server) checkCSRF(r *http.Request, isAPI bool) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	sess := SessionFrom(r.Context())
	if sess == nil {
		return nil
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" && !isAPI {
		got = r.PostFormValue("csrf")
	}
	if got == "" || !auth.Equal(got, sess.CSRFToken) {
		if !isAPI && r.Header.Get("X-CSRF-Token") == "" {
			return tenantlink.Errorf(tenantlink.EFORBIDDEN, "This form's security token (CSRF) is missing or out of date: go back, reload the page and try again.")
		}
		return tenantlink.Errorf(tenantlink.EFORBIDDEN, "Missing or wrong CSRF token: send the csrfToken from POST /api/v1/session as X-CSRF-Token.")
	}
	return nil
}

// StartSession creates a session for u and sets its cookie.
func (s *Server) StartSession(w http.ResponseWriter, r *http.Request, u *tenantlink.User) (*store.Session, error) {
	raw, hash := auth.NewToken("")
	csrf, _ := auth.NewToken("")
	now := s.cfg.Now()
	sess := &store.Session{IDHash: hash, UserID: u.ID, CSRFToken: csrf, CreatedAt: now, ExpiresAt: now.Add(SessionTTL)}
	if err := s.cfg.Directory.CreateSession(r.Context(), sess); err != nil {
		return nil, err
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: raw, Path: "/", HttpOnly: true, Secure: s.secure,
		SameSite: http.SameSiteLaxMode, Expires: sess.ExpiresAt})
	return sess, nil
}

// EndSession deletes the request's session and clears the cookie.
func (s *Server) EndSession(w http.ResponseWriter, r *http.Request) error {
	if sess := SessionFrom(r.Context()); sess != nil {
		if err := s.cfg.Directory.EndSession(r.Context(), sess.IDHash); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	return nil
}

// ClientAddr is the client's address (for rate limiting and audit), as
// Server.ClientAddr found it for a request that came through Handler; for
// any other request, the TCP peer.
func ClientAddr(r *http.Request) string {
	if a, ok := r.Context().Value(clientKey).(string); ok {
		return a
	}
	return peerAddr(r)
}

func peerAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ClientAddr finds the client's address: the TCP peer, unless the peer is
// a trusted proxy, in which case X-Forwarded-For is walked from the right
// (the entry the nearest proxy appended) past trusted hops to the first
// address that is not a trusted proxy. Entries left of that one were
// written by the client and are ignored; an entry that is not an address
// stops the walk at the last trusted hop.
func (s *Server) ClientAddr(r *http.Request) string {
	peer := peerAddr(r)
	if len(s.cfg.TrustedProxies) == 0 {
		return peer
	}
	addr, err := netip.ParseAddr(peer)
	if err != nil || !s.trusted(addr) {
		return peer
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		for _, h := range strings.Split(v, ",") {
			hops = append(hops, strings.TrimSpace(h))
		}
	}
	client := addr
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			break
		}
		client = a.Unmap()
		if !s.trusted(client) {
			break
		}
	}
	return client.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParseTrustedProxies parses a comma-separated list of CIDR prefixes or
// single addresses ("10.0.0.0/8, 192.168.1.1"); empty means none.
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	var out []netip.Prefix
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if strings.Contains(item, "/") {
			p, err := netip.ParsePrefix(item)
			if err == nil && p.Addr().Is4In6() && p.Bits() < 96 {
				err = errors.New("mapped prefix too short")
			}
			if err != nil {
				return nil, fmt.Errorf("trusted proxies: %q is not a CIDR prefix such as 10.0.0.0/8", item)
			}
			out = append(out, netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-unmapBits(p.Addr())).Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("trusted proxies: %q is not an IP address or CIDR prefix", item)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// unmapBits is how many prefix bits an IPv4-mapped IPv6 address loses
// when unmapped.
func unmapBits(a netip.Addr) int {
	if a.Is4In6() {
		return 96
	}
	return 0
}

// MetricsHandler serves the Prometheus metrics, behind the bearer token
// when Config.MetricsToken is set.
func (s *Server) MetricsHandler() http.Handler {
	h := s.cfg.Metrics.Handler()
	if s.cfg.MetricsToken == "" {
		return h
	}
	want := auth.HashToken(s.cfg.MetricsToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !auth.Equal(auth.HashToken(raw), want) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tenantlink metrics"`)
			http.Error(w, "metrics need Authorization: Bearer <metrics token>", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Status maps an error code to its HTTP status: the one place it happens.
func Status(code string) int {
	switch code {
	case tenantlink.EINVALID:
		return http.StatusBadRequest
	case tenantlink.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case tenantlink.EFORBIDDEN:
		return http.StatusForbidden
	case tenantlink.ENOTFOUND:
		return http.StatusNotFound
	case tenantlink.ECONFLICT:
		return http.StatusConflict
	case tenantlink.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case tenantlink.ETOOMANY:
		return http.StatusTooManyRequests
	case tenantlink.EUPSTREAM:
		return http.StatusBadGateway
	case tenantlink.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var b errorBody
	b.Error.Code = tenantlink.ErrorCode(err)
	b.Error.Message = tenantlink.ErrorMessage(err)
	if b.Error.Code == tenantlink.EUNAUTHORIZED {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tenantlink"`)
	}
	writeJSON(w, Status(b.Error.Code), b)
}

// WriteJSON writes v as JSON with status code.
func WriteJSON(w http.ResponseWriter, code int, v any) error {
	writeJSON(w, code, v)
	return nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// DecodeJSON decodes exactly one JSON object from r's body into v,
// refusing unknown fields (also names that differ from a field only in
// case), wrong types, trailing data and bodies over MaxBody, with messages
// that say what was wrong.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return tenantlink.Errorf(tenantlink.EINVALID, "Content-Type must be application/json, not %q", ct)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return decodeError(err)
		}
		return fmt.Errorf("read request body: %w", err)
	}
	if err := checkShape(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return tenantlink.Errorf(tenantlink.EINVALID, "the body must hold exactly one JSON object")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err == nil {
		return tenantlink.Errorf(tenantlink.EINVALID, "the body must hold exactly one JSON object")
	}
	var tree any
	if err := json.Unmarshal(body, &tree); err != nil {
		return decodeError(err)
	}
	return checkNames(tree, reflect.TypeOf(v), "")
}

// checkShape refuses a body that is not one JSON object (null, a string,
// a number, an array: encoding/json takes null for "no change" and would
// let it through as {}) and any object, at any depth, that names a member
// twice (encoding/json keeps the last, another reader may keep the first,
// and an audit or review would see the one it was shown).
func checkShape(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return decodeError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return tenantlink.Errorf(tenantlink.EINVALID, "the body must be a JSON object, not %s", tokenKind(tok))
	}
	return checkObject(dec, "")
}

// checkObject reads the members of an object whose '{' was read, and
// everything nested in them, refusing duplicate names.
func checkObject(dec *json.Decoder, path string) error {
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return truncated(err)
		}
		name, _ := tok.(string)
		if seen[name] {
			return tenantlink.Errorf(tenantlink.EINVALID, "duplicate field %q: name each field once", path+name)
		}
		seen[name] = true
		if err := checkValue(dec, path+name); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return truncated(err)
	}
	return nil
}

func checkValue(dec *json.Decoder, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return truncated(err)
	}
	switch tok {
	case json.Delim('{'):
		return checkObject(dec, path+".")
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if err := checkValue(dec, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // ']'
			return truncated(err)
		}
	}
	return nil
}

// truncated is decodeError for a body that already started: its end is
// an unexpected one.
func truncated(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return decodeError(err)
}

func tokenKind(tok json.Token) string {
	switch tok.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "true or false"
	case json.Delim:
		return "an array"
	}
	return "that"
}

// checkNames refuses member names that match a field only when case is
// ignored: encoding/json accepts {"readwrite":true} for readWrite, which
// DisallowUnknownFields lets through, so a client's typo would work here
// and fail against any stricter reader of the documented API.
func checkNames(tree any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := tree.(map[string]any)
		if !ok {
			return nil
		}
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fields[name] = f.Type
		}
		for k, sub := range obj {
			ft, ok := fields[k]
			if !ok {
				return tenantlink.Errorf(tenantlink.EINVALID, "unknown field %q", path+k)
			}
			if err := checkNames(sub, ft, path+k+"."); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		list, ok := tree.([]any)
		if !ok {
			return nil
		}
		for _, sub := range list {
			if err := checkNames(sub, t.Elem(), path); err != nil {
				return err
			}
		}
	}
	return nil
}

func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return tenantlink.Errorf(tenantlink.ETOOLARGE, "the body is larger than %d bytes", MaxBody)
	case errors.As(err, &syn):
		return tenantlink.Errorf(tenantlink.EINVALID, "malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return tenantlink.Errorf(tenantlink.EINVALID, "the body must be a JSON object, not %s", typ.Value)
		}
		return tenantlink.Errorf(tenantlink.EINVALID, "field %q must be %s, not %s", field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.EOF):
		return tenantlink.Errorf(tenantlink.EINVALID, "the body is empty: send a JSON object")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return tenantlink.Errorf(tenantlink.EINVALID, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return tenantlink.Errorf(tenantlink.EINVALID, "malformed JSON: the body ends too early")
	default:
		return tenantlink.Errorf(tenantlink.EINVALID, "malformed JSON: %s", err.Error())
	}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int64", "int32", "float64", "uint":
		return "a number"
	case "slice":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	}
	return k
}
