package web

import (
	"net/http"

	"github.com/tenantlink/tenantlink/internal/jobs/tasks"
)

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request) error {
	list, err := s.cfg.Sync.Tasks.ListTasks(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, map[string]any{"value": list})
}

func (s *Server) createTask(w http.ResponseWriter, r *http.Request) error {
	var in tasks.TaskInput
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	task, err := s.cfg.Sync.Tasks.CreateTask(r.Context(), principal(r), in)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusCreated, task)
}

func (s *Server) getTask(w http.ResponseWriter, r *http.Request) error {
	task, err := s.cfg.Sync.Tasks.GetTask(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, task)
}

func (s *Server) patchTask(w http.ResponseWriter, r *http.Request) error {
	var in tasks.TaskInput
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	task, err := s.cfg.Sync.Tasks.UpdateTask(r.Context(), principal(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return WriteJSON(w, 200, task)
}

func (s *Server) deleteTask(w http.ResponseWriter, r *http.Request) error {
	if err := s.cfg.Sync.Tasks.DeleteTask(r.Context(), principal(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) runTask(w http.ResponseWriter, r *http.Request) error {
	e, err := s.cfg.Sync.Tasks.RunNow(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusAccepted, e)
}

// taskWebhook needs no session: the secret in the URL is the credential.
// A wrong secret answers 404, like an unknown task.
func (s *Server) taskWebhook(w http.ResponseWriter, r *http.Request) error {
	e, err := s.cfg.Sync.Tasks.Webhook(r.Context(), r.PathValue("id"), r.PathValue("secret"))
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusAccepted, e)
}
