package web

import (
	"net/http"

	"github.com/tenantlink/tenantlink/internal/process"
)

// RegisterProcesses registers the process API (docs/SPEC.md §8) on
// svc. It is called by package app once the process service exists, the
// way RegisterSync is, because New has no process service to hand.
func (s *Server) RegisterProcesses(svc *process.Service) {
	s.api("GET", "/api/v1/processes", "Processes, by name (any signed-in user).", false, func(w http.ResponseWriter, r *http.Request) error {
		list, err := svc.List(r.Context(), principal(r))
		if err != nil {
			return err
		}
		return WriteJSON(w, 200, map[string]any{"value": list})
	})
	s.api("POST", "/api/v1/processes", "Create a process ({\"name\",\"fields\":[…],\"rules\":[…]}); needs the Administrator or Design business process role. Invalid definitions answer 400 listing every problem.", false, func(w http.ResponseWriter, r *http.Request) error {
		var def process.Definition
		if err := DecodeJSON(w, r, &def); err != nil {
			return err
		}
		p, err := svc.Create(r.Context(), principal(r), def)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusCreated, p)
	})
	s.api("GET", "/api/v1/processes/{id}", "Read a process definition.", false, func(w http.ResponseWriter, r *http.Request) error {
		p, err := svc.Get(r.Context(), principal(r), r.PathValue("id"))
		if err != nil {
			return err
		}
		return WriteJSON(w, 200, p)
	})
	s.api("PUT", "/api/v1/processes/{id}", "Replace a process definition (same body and roles as POST).", false, func(w http.ResponseWriter, r *http.Request) error {
		var def process.Definition
		if err := DecodeJSON(w, r, &def); err != nil {
			return err
		}
		p, err := svc.Update(r.Context(), principal(r), r.PathValue("id"), def)
		if err != nil {
			return err
		}
		return WriteJSON(w, 200, p)
	})
	s.api("DELETE", "/api/v1/processes/{id}", "Delete a process and its instances.", false, func(w http.ResponseWriter, r *http.Request) error {
		if err := svc.Delete(r.Context(), principal(r), r.PathValue("id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	s.api("POST", "/api/v1/processes/{id}/instances", "Start an instance ({\"fields\":{…}}): the rules run in order as the caller, who must be a connection user of every data source used; answers the instance with its final fields and each rule's outcome.", false, func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			Fields map[string]any `json:"fields"`
		}
		if err := DecodeJSON(w, r, &in); err != nil {
			return err
		}
		inst, err := svc.Start(r.Context(), principal(r), r.PathValue("id"), in.Fields)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusCreated, inst)
	})
	s.api("GET", "/api/v1/processes/{id}/instances", "A process's instances, newest first (?limit=, default 100): all to designers, one's own to others.", false, func(w http.ResponseWriter, r *http.Request) error {
		limit := 0
		if q := r.URL.Query().Get("limit"); q != "" {
			n, err := parseLimit(q)
			if err != nil {
				return err
			}
			limit = n
		}
		list, err := svc.Instances(r.Context(), principal(r), r.PathValue("id"), limit)
		if err != nil {
			return err
		}
		return WriteJSON(w, 200, map[string]any{"value": list})
	})
	s.api("GET", "/api/v1/instances/{id}", "A process instance: final fields and each rule's outcome (skipped, succeeded, failed, not run). Visible to who started it and to designers.", false, func(w http.ResponseWriter, r *http.Request) error {
		inst, err := svc.Instance(r.Context(), principal(r), r.PathValue("id"))
		if err != nil {
			return err
		}
		return WriteJSON(w, 200, inst)
	})
}
