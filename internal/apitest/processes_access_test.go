package apitest

import (
	"strings"
	"testing"
)

// Why the process routes refuse, as their 403 messages must say.
const needDesign = "Administrator or Design business process role"

// processDefinition is a one-rule process reading ds's licence plans.
func processDefinition(name, dsID string) map[string]any {
	return map[string]any{"name": name,
		"fields": []any{map[string]any{"name": "count", "type": "number"}},
		"rules": []any{map[string]any{"title": "Plans", "datasource": dsID, "operation": "LicencePlanList",
			"success": map[string]any{"count": map[string]any{"count": true}}}}}
}

// newProcesses creates a process on each of Open and Restricted and an
// instance of the Open one started by the bootstrap Administrator.
func (fx *accessFixture) newProcesses(t *testing.T) {
	t.Helper()
	fx.processes = map[string]string{}
	for _, ds := range []dataSource{fx.open, fx.restricted} {
		var p struct{ ID string }
		fx.admin.Must(201, "POST", "/api/v1/processes", processDefinition("Matrix "+ds.Name, ds.ID), &p)
		fx.processes[ds.ID] = p.ID
	}
	var in struct{ ID string }
	fx.admin.Must(201, "POST", "/api/v1/processes/"+fx.processes[fx.open.ID]+"/instances", map[string]any{"fields": map[string]any{}}, &in)
	fx.instance = in.ID
}

// processRequest builds the requests of the process routes; ok is false
// for other routes.
func (fx *accessFixture) processRequest(t *testing.T, route, col, unique string) (path string, body any, ok bool) {
	t.Helper()
	_, path, _ = strings.Cut(route, " ")
	ds := fx.target(col)
	id := fx.processes[ds.ID]
	switch route {
	case "POST /api/v1/processes":
		return path, processDefinition(unique, fx.open.ID), true
	case "PUT /api/v1/processes/{id}":
		id = fx.processes[fx.open.ID]
		body = processDefinition("Matrix Open", fx.open.ID)
	case "DELETE /api/v1/processes/{id}":
		var p struct{ ID string }
		fx.admin.In(t).Must(201, "POST", "/api/v1/processes", processDefinition(unique, fx.open.ID), &p)
		id = p.ID
	case "POST /api/v1/processes/{id}/instances":
		body = map[string]any{"fields": map[string]any{}}
	case "GET /api/v1/instances/{id}":
		return strings.Replace(path, "{id}", fx.instance, 1), nil, true
	case "GET /api/v1/processes/{id}", "GET /api/v1/processes/{id}/instances", "GET /api/v1/processes":
	default:
		return "", nil, false
	}
	return strings.Replace(path, "{id}", id, 1), body, true
}
