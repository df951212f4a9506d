package ui

import (
	"net/http"

	"github.com/tenantlink/tenantlink/internal/datasource"
	"github.com/tenantlink/tenantlink/internal/web"
)

func (h *handler) showCatalogue(w http.ResponseWriter, r *http.Request) error {
	if err := datasource.CanAdminister(web.PrincipalFrom(r.Context()), nil); err != nil {
		return err
	}
	p := h.newPage(r, "Add a data source", "datasources", h.DataSources.Catalogue())
	return h.render(w, http.StatusOK, "datasource_catalogue", p)
}
