package ui

import (
	"net/http"
	"slices"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/datasource"
	"github.com/tenantlink/tenantlink/internal/web"
)

// deleteData feeds the delete confirmation: the data source and what
// uses it, which a confirmed deletion turns off.
type deleteData struct {
	DS         *tenantlink.DataSource
	Dependents []datasource.Dependent
	CSRF       string
}

// Of returns the dependents of one kind, for the page's lists.
func (d *deleteData) Of(kind string) []datasource.Dependent {
	var out []datasource.Dependent
	for _, x := range d.Dependents {
		if x.Kind == kind {
			out = append(out, x)
		}
	}
	return out
}

// confirmDelete is the OK/Cancel question: it lists what uses the data
// source and what deleting it will turn off. With JavaScript, app.js asks
// with confirm() and posts directly; a data source in use then comes back
// here (409) to be confirmed with its dependents in view.
func (h *handler) confirmDelete(w http.ResponseWriter, r *http.Request) error {
	pr := web.PrincipalFrom(r.Context())
	ds, err := h.DataSources.Get(r.Context(), pr, r.PathValue("id"))
	if err != nil {
		return err
	}
	deps, err := h.DataSources.Dependents(r.Context(), pr, ds.ID)
	if err != nil {
		return err
	}
	return h.renderDelete(w, r, http.StatusOK, ds, deps)
}

func (h *handler) renderDelete(w http.ResponseWriter, r *http.Request, status int, ds *tenantlink.DataSource, deps []datasource.Dependent) error {
	p := h.newPage(r, "Delete data source", "datasources", &deleteData{DS: ds, Dependents: deps, CSRF: web.CSRFToken(r.Context())})
	return h.render(w, status, "datasource_delete", p)
}

func (h *handler) deleteDataSource(w http.ResponseWriter, r *http.Request) error {
	pr := web.PrincipalFrom(r.Context())
	id := r.PathValue("id")
	force := r.PostFormValue("force") == "true"
	if force {
		// Force only what the page showed: something that started using
		// the data source since is shown before it is turned off.
		deps, err := h.DataSources.Dependents(r.Context(), pr, id)
		if err != nil {
			return err
		}
		shown := r.PostForm["shown"]
		for _, d := range deps {
			if !slices.Contains(shown, d.Kind+":"+d.ID) {
				force = false
			}
		}
	}
	err := h.DataSources.Delete(r.Context(), pr, id, force)
	if deps, ok := datasource.AsInUse(err); ok {
		// Not confirmed with its dependents in view (or new ones since):
		// ask again, listing them.
		ds, gerr := h.DataSources.Get(r.Context(), pr, id)
		if gerr != nil {
			return gerr
		}
		return h.renderDelete(w, r, http.StatusConflict, ds, deps)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/datasources?notice=deleted", http.StatusSeeOther)
	return nil
}
