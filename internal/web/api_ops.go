package web

import (
	"net/http"

	"github.com/tenantlink/tenantlink"

	"github.com/tenantlink/tenantlink/internal/connector"
)

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
	if err != nil && len(items) == 0 {
		return err
	}
	if items == nil {
		items = []connector.Item{}
	}
	out := map[string]any{"items": items, "count": len(items)}
	if err != nil {
		// A partial result: every item carries its own outcome, and the
		// error sums up the ones that failed. The status is that of the
		// error so that clients checking only the status see the failure.
		var b errorBody
		b.Error.Code = tenantlink.ErrorCode(err)
		b.Error.Message = tenantlink.ErrorMessage(err)
		if b.Error.Code == tenantlink.EINTERNAL {
			s.cfg.Logger.Error("operation failed", "err", err)
		}
		out["error"] = b.Error
		return WriteJSON(w, Status(b.Error.Code), out)
	}
	return WriteJSON(w, 200, out)
}
