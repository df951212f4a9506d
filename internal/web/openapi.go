package web

import (
	"net/http"
	"regexp"
	"strings"
)

var pathParam = regexp.MustCompile(`\{([a-zA-Z]+)\}`)

// openAPI describes every documented route (a row of the route table
// with a Summary), generated from the table so the document cannot drift
// from what exists.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	return WriteJSON(w, 200, s.OpenAPIDocument())
}

// OpenAPIDocument returns the OpenAPI 3.1 description of the API.
func (s *Server) OpenAPIDocument() map[string]any {
	errResp := map[string]any{"description": "Error: {\"error\":{\"code\",\"message\"}}", "content": map[string]any{
		"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	paths := map[string]any{}
	for _, rt := range s.routes {
		if !rt.documented() {
			continue
		}
		item, _ := paths[rt.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.Path] = item
		}
		op := map[string]any{
			"summary":     rt.Summary,
			"operationId": operationID(rt.Method, rt.Path),
			"responses": map[string]any{
				"2XX":     map[string]any{"description": "Success (JSON)"},
				"4XX":     errResp,
				"default": errResp,
			},
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.Method == "POST" || rt.Method == "PATCH" || rt.Method == "PUT" {
			op["requestBody"] = map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}}
		}
		if rt.Access != SignedIn {
			op["security"] = []any{}
		}
		item[strings.ToLower(rt.Method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": "tenantlink API", "version": "1"},
		"paths":   paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"bearer":  map[string]any{"type": "http", "scheme": "bearer", "description": "API token from POST /api/v1/tokens"},
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": SessionCookie, "description": "From POST /api/v1/session; unsafe requests also send X-CSRF-Token"},
			},
			"schemas": map[string]any{
				"Error": map[string]any{"type": "object", "properties": map[string]any{"error": map[string]any{"type": "object",
					"properties": map[string]any{"code": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"}}}}},
			},
		},
		"security": []any{map[string]any{"bearer": []any{}}, map[string]any{"session": []any{}}},
	}
}

func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, part := range strings.Split(strings.TrimPrefix(path, "/api/v1/"), "/") {
		part = strings.Trim(part, "{}")
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return strings.ReplaceAll(b.String(), ".", "")
}
