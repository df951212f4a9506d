package ui

import (
	"net/http"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/web"
)

// The details form has one submit button per action; all of them save the
// form first, so that Authorize, Test connection and Security on a new or
// edited data source act on what the person sees.
const (
	actionSave      = "save"
	actionAuthorize = "authorize"
	actionTest      = "test"
	actionSecurity  = "security"
)

func (h *handler) createDataSource(typ string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		in := formInput(r)
		in.Type = &typ
		ds, err := h.DataSources.Create(r.Context(), web.PrincipalFrom(r.Context()), in)
		if fieldError(err) {
			return h.renderDetails(w, r, web.Status(tenantlink.ErrorCode(err)), withInput(draft(typ), in), []notice{{Message: tenantlink.ErrorMessage(err), Error: true}})
		}
		if err != nil {
			return err
		}
		return h.afterSave(w, r, ds)
	}
}

func (h *handler) saveDataSource(w http.ResponseWriter, r *http.Request) error {
	pr := web.PrincipalFrom(r.Context())
	in := formInput(r)
	ds, err := h.DataSources.Update(r.Context(), pr, r.PathValue("id"), in)
	if fieldError(err) {
		cur, gerr := h.DataSources.Get(r.Context(), pr, r.PathValue("id"))
		if gerr != nil {
			return gerr
		}
		return h.renderDetails(w, r, web.Status(tenantlink.ErrorCode(err)), withInput(cur, in), []notice{{Message: tenantlink.ErrorMessage(err), Error: true}})
	}
	if err != nil {
		return err
	}
	return h.afterSave(w, r, ds)
}

func (h *handler) afterSave(w http.ResponseWriter, r *http.Request, ds *tenantlink.DataSource) error {
	pr := web.PrincipalFrom(r.Context())
	here := "/datasources/" + ds.ID
	switch r.PostFormValue("action") {
	case actionAuthorize:
		// Without JavaScript there is no popup: the whole window goes to
		// Microsoft and the callback page links back here.
		u, err := h.DataSources.Authorize(r.Context(), pr, ds.ID)
		if err != nil {
			if tenantlink.ErrorCode(err) == tenantlink.EINTERNAL {
				return err
			}
			return h.renderDetails(w, r, web.Status(tenantlink.ErrorCode(err)), ds, []notice{{Message: tenantlink.ErrorMessage(err), Error: true}})
		}
		http.Redirect(w, r, u, http.StatusSeeOther)
	case actionTest:
		if _, err := h.DataSources.Test(r.Context(), pr, ds.ID); err != nil {
			if tenantlink.ErrorCode(err) == tenantlink.EINTERNAL {
				return err
			}
			return h.renderDetails(w, r, web.Status(tenantlink.ErrorCode(err)), ds, []notice{{Message: tenantlink.ErrorMessage(err), Error: true}})
		}
		http.Redirect(w, r, here+"?notice=tested", http.StatusSeeOther)
	case actionSecurity:
		http.Redirect(w, r, here+"/security", http.StatusSeeOther)
	default:
		http.Redirect(w, r, here+"?notice=saved", http.StatusSeeOther)
	}
	return nil
}
