package ui

import "net/http"

// home sends everyone to the one area that exists today.
func (h *handler) home(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, "/datasources", http.StatusSeeOther)
	return nil
}
