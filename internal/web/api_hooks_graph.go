package web

import (
	"io"
	"net/http"
)

// maxValidationToken bounds the echoed handshake token: Graph's is about a
// hundred characters.
const maxValidationToken = 1024

// graphNotification is the change-notification endpoint. It needs no
// sign-in: each notification is checked against its subscription's
// clientState. The validation handshake (?validationToken=…) is answered
// with the decoded token as text/plain; notifications always get 202 —
// forged, unknown and accepted alike — unless the database failed (503,
// so that Graph retries). The work is queued, never done inline.
func (s *Server) graphNotification(w http.ResponseWriter, r *http.Request) error {
	if tok, ok := r.URL.Query()["validationToken"]; ok {
		if len(tok) != 1 || len(tok[0]) > maxValidationToken {
			w.WriteHeader(http.StatusBadRequest)
			return nil
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, err := io.WriteString(w, tok[0])
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		w.WriteHeader(http.StatusAccepted)
		return nil
	}
	if err := s.cfg.GraphHooks.Receive(r.Context(), r.PathValue("datasource"), body); err != nil {
		s.cfg.Logger.Error("graph notification intake failed", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		return nil
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}
