package ui

import (
	"net/http"

	"github.com/tenantlink/tenantlink/internal/datasource"
	"github.com/tenantlink/tenantlink/internal/web"
)

// confirmDelete is the OK/Cancel question for browsers without
// JavaScript; with it, app.js asks with confirm() and posts directly.
func (h *handler) confirmDelete(w http.ResponseWriter, r *http.Request) error {
	pr := web.PrincipalFrom(r.Context())
	ds, err := h.DataSources.Get(r.Context(), pr, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := datasource.CanAdminister(pr, ds); err != nil {
		return err
	}
	p := h.newPage(r, "Delete data source", "datasources", ds)
	return h.render(w, http.StatusOK, "datasource_delete", p)
}

func (h *handler) deleteDataSource(w http.ResponseWriter, r *http.Request) error {
	if err := h.DataSources.Delete(r.Context(), web.PrincipalFrom(r.Context()), r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/datasources?notice=deleted", http.StatusSeeOther)
	return nil
}
