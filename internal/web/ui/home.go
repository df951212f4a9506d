package ui

import (
	"net/http"

	"github.com/tenantlink/tenantlink"
)

// home sends everyone to the one area that exists today.
func (h *handler) home(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, "/datasources", http.StatusSeeOther)
	return nil
}

// noPage answers an address no route serves.
func (h *handler) noPage(w http.ResponseWriter, r *http.Request) error {
	return tenantlink.Errorf(tenantlink.ENOTFOUND, "There is no page at %s.", r.URL.Path)
}
