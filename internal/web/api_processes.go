package web

import (
	"net/http"

	"github.com/tenantlink/tenantlink/internal/process"
)

// The process API (docs/SPEC.md §8), on Config.Processes.

func (s *Server) listProcesses(w http.ResponseWriter, r *http.Request) error {
	list, err := s.cfg.Processes.List(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, map[string]any{"value": list})
}

func (s *Server) createProcess(w http.ResponseWriter, r *http.Request) error {
	var def process.Definition
	if err := DecodeJSON(w, r, &def); err != nil {
		return err
	}
	p, err := s.cfg.Processes.Create(r.Context(), principal(r), def)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusCreated, p)
}

func (s *Server) getProcess(w http.ResponseWriter, r *http.Request) error {
	p, err := s.cfg.Processes.Get(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, p)
}

func (s *Server) putProcess(w http.ResponseWriter, r *http.Request) error {
	var def process.Definition
	if err := DecodeJSON(w, r, &def); err != nil {
		return err
	}
	p, err := s.cfg.Processes.Update(r.Context(), principal(r), r.PathValue("id"), def)
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, p)
}

func (s *Server) deleteProcess(w http.ResponseWriter, r *http.Request) error {
	if err := s.cfg.Processes.Delete(r.Context(), principal(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) startProcess(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Fields map[string]any `json:"fields"`
	}
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	inst, err := s.cfg.Processes.Start(r.Context(), principal(r), r.PathValue("id"), in.Fields)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusCreated, inst)
}

func (s *Server) listInstances(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryLimit(r.URL.Query(), 0, 1000)
	if err != nil {
		return err
	}
	list, err := s.cfg.Processes.Instances(r.Context(), principal(r), r.PathValue("id"), limit)
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, map[string]any{"value": list})
}

func (s *Server) getInstance(w http.ResponseWriter, r *http.Request) error {
	inst, err := s.cfg.Processes.Instance(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, inst)
}
