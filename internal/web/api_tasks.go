package web

import (
	"net/http"

	"github.com/tenantlink/tenantlink/internal/jobs/tasks"
)

func (s *Server) registerTasks(d SyncAPI) {
	t := d.Tasks
	s.api("GET", "/api/v1/tasks", "Scheduled tasks: name, schedule, last run, next run, status.", false, func(w http.ResponseWriter, r *http.Request) error {
		list, err := t.ListTasks(r.Context(), principal(r))
		if err != nil {
			return err
		}
		return WriteJSON(w, 200, map[string]any{"value": list})
	})
	s.api("POST", "/api/v1/tasks", "Create a scheduled task ({\"kind\":\"sync\",\"target\":\"<group id>\",\"schedule\":{…}}); the answer's webhookUrl is shown once.", false, func(w http.ResponseWriter, r *http.Request) error {
		var in tasks.TaskInput
		if err := DecodeJSON(w, r, &in); err != nil {
			return err
		}
		task, err := t.CreateTask(r.Context(), principal(r), in)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusCreated, task)
	})
	s.api("GET", "/api/v1/tasks/{id}", "Read a scheduled task.", false, func(w http.ResponseWriter, r *http.Request) error {
		task, err := t.GetTask(r.Context(), principal(r), r.PathValue("id"))
		if err != nil {
			return err
		}
		return WriteJSON(w, 200, task)
	})
	s.api("PATCH", "/api/v1/tasks/{id}", "Change a task's name, schedule or enabled flag; {\"rotateWebhook\":true} issues a new webhook URL (shown once).", false, func(w http.ResponseWriter, r *http.Request) error {
		var in tasks.TaskInput
		if err := DecodeJSON(w, r, &in); err != nil {
			return err
		}
		task, err := t.UpdateTask(r.Context(), principal(r), r.PathValue("id"), in)
		if err != nil {
			return err
		}
		return WriteJSON(w, 200, task)
	})
	s.api("DELETE", "/api/v1/tasks/{id}", "Delete a scheduled task.", false, func(w http.ResponseWriter, r *http.Request) error {
		if err := t.DeleteTask(r.Context(), principal(r), r.PathValue("id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	s.api("POST", "/api/v1/tasks/{id}/run", "Run a task now (202; {\"job\",\"already\"}).", false, func(w http.ResponseWriter, r *http.Request) error {
		e, err := t.RunNow(r.Context(), principal(r), r.PathValue("id"))
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusAccepted, e)
	})
	// The webhook needs no session: the secret in the URL is the
	// credential. A wrong secret answers 404, like an unknown task.
	s.api("POST", "/hooks/tasks/{id}/{secret}", "On-demand webhook: queue the task's run (no sign-in; the secret is the credential).", true, func(w http.ResponseWriter, r *http.Request) error {
		e, err := t.Webhook(r.Context(), r.PathValue("id"), r.PathValue("secret"))
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusAccepted, e)
	})
}
