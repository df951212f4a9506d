package m365sim

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
)

const maxBatch = 20

type batchItem struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

// batch runs JSON batching (graph-contracts.md section 10): each item goes
// through the same routing, permission checks, faults and throttling as a
// standalone request; items run in order so dependsOn can be honoured.
func (rq *req) batch() error {
	var in struct {
		Requests []batchItem `json:"requests"`
	}
	if err := json.NewDecoder(rq.r.Body).Decode(&in); err != nil {
		return gerr(400, "BadRequest", "Invalid batch payload format.")
	}
	if len(in.Requests) == 0 {
		return gerr(400, "BadRequest", "Invalid batch payload format.")
	}
	if len(in.Requests) > maxBatch {
		return gerr(400, "BadRequest", "Number of requests inside batch exceeds the limit.")
	}
	seen := map[string]bool{}
	for _, it := range in.Requests {
		if it.ID == "" || it.Method == "" || it.URL == "" {
			return gerr(400, "BadRequest", "Invalid batch payload format.")
		}
		if seen[it.ID] {
			return gerr(400, "BadRequest", "Request Id '%s' is not unique.", it.ID)
		}
		seen[it.ID] = true
		if len(it.Body) > 0 && string(it.Body) != "null" && contentType(it.Headers) == "" {
			return gerr(400, "BadRequest", "Write request id : %s does not contain Content-Type header or body.", it.ID)
		}
		if strings.HasPrefix(it.URL, "http://") || strings.HasPrefix(it.URL, "https://") {
			return gerr(400, "BadRequest", "Invalid request URI '%s'. The batch request URL must be relative.", it.URL)
		}
	}
	for _, it := range in.Requests {
		for _, d := range it.DependsOn {
			if !seen[d] {
				return gerr(400, "BadRequest", "Request '%s' depends on request '%s', which is not part of the batch.", it.ID, d)
			}
		}
	}
	status := map[string]int{}
	var out []obj
	for _, it := range in.Requests {
		failedDep := false
		for _, d := range it.DependsOn {
			if st, ok := status[d]; !ok || st >= 400 {
				failedDep = true
			}
		}
		if failedDep {
			status[it.ID] = 424
			out = append(out, obj{{"id", it.ID}, {"status", 424}, {"headers", obj{{"Content-Type", "application/json"}}},
				{"body", obj{{"error", obj{{"code", "FailedDependency"}, {"message", "Dependent request failed."}}}}}})
			continue
		}
		rec := rq.runItem(it)
		status[it.ID] = rec.Code
		out = append(out, batchResponse(it.ID, rec))
	}
	rq.json(200, obj{{"responses", out}})
	return nil
}

func contentType(h map[string]string) string { return header(h, "Content-Type") }

func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func (rq *req) runItem(it batchItem) *httptest.ResponseRecorder {
	target := "/v1.0/" + strings.TrimLeft(it.URL, "/")
	var body []byte
	if len(it.Body) > 0 && string(it.Body) != "null" {
		body = it.Body
		// A string body is base64 (json-batching: "a JSON object or a
		// base64 URL-encoded value"); with a Content-Encoding item header it
		// carries the encoded bytes, which the item's own route decodes
		// like a standalone request's (sdk.go decodeBody).
		var s string
		if json.Unmarshal(it.Body, &s) == nil && (!strings.Contains(contentType(it.Headers), "json") || header(it.Headers, "Content-Encoding") != "") {
			if b, err := base64Body(s); err == nil {
				body = b
			}
		}
	}
	r := httptest.NewRequestWithContext(rq.r.Context(), strings.ToUpper(it.Method), target, bytes.NewReader(body))
	r.RemoteAddr = rq.r.RemoteAddr
	r.Host = rq.r.Host
	for k, v := range it.Headers {
		r.Header.Set(k, v)
	}
	r.Header.Set("Authorization", rq.r.Header.Get("Authorization"))
	rec := httptest.NewRecorder()
	if strings.HasPrefix(r.URL.Path, "/v1.0/$batch") {
		s := rq.s.newReq(rec, r)
		s.fail(gerr(400, "BadRequest", "Nested batch requests are not supported."))
		return rec
	}
	if rq.s.injectFault(rec, r, r.URL.Path) {
		return rec
	}
	rq.s.graph().ServeHTTP(rec, r)
	return rec
}

// batchHeaders are the item headers worth passing back.
var batchHeaders = []string{"Content-Type", "Location", "Retry-After", "x-ms-resource-unit", "x-ms-throttle-scope", "x-ms-throttle-information", "x-ms-throttle-limit-percentage", "Preference-Applied", "request-id", "client-request-id"}

func batchResponse(id string, rec *httptest.ResponseRecorder) obj {
	h := obj{}
	for _, k := range batchHeaders {
		if v := rec.Header().Get(k); v != "" {
			h = append(h, kv{k, v})
		}
	}
	o := obj{{"id", id}, {"status", rec.Code}, {"headers", h}}
	b := rec.Body.Bytes()
	if len(b) == 0 {
		return o
	}
	if strings.Contains(rec.Header().Get("Content-Type"), "json") && json.Valid(b) {
		return append(o, kv{"body", json.RawMessage(bytes.TrimSpace(b))})
	}
	return append(o, kv{"body", string(b)})
}
