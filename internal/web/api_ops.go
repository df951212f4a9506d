package web

import (
	"net/http"

	"github.com/tenantlink/tenantlink/internal/connector"
)

func (s *Server) registerOperations() {
	s.api("GET", "/api/v1/datasources/{id}/operations", "The operations a data source offers, with their declared inputs and outputs.", false, s.listOperations)
	s.api("POST", "/api/v1/datasources/{id}/operations/{name}", "Run an operation: {\"inputs\":{…}} → {\"items\":[…]}.", false, s.runOperation)
}

func (s *Server) listOperations(w http.ResponseWriter, r *http.Request) error {
	ops, err := s.cfg.DataSources.Operations(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, map[string]any{"value": ops})
}

func (s *Server) runOperation(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Inputs map[string]any `json:"inputs"`
	}
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Inputs == nil {
		in.Inputs = map[string]any{}
	}
	items, err := s.cfg.DataSources.RunOperation(r.Context(), principal(r), r.PathValue("id"), r.PathValue("name"), in.Inputs)
	if err != nil {
		return err
	}
	if items == nil {
		items = []connector.Item{}
	}
	return WriteJSON(w, 200, map[string]any{"items": items, "count": len(items)})
}
