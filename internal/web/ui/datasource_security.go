package ui

import (
	"net/http"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/web"
)

// securityData feeds the Security form, both the <dialog> on the details
// page and the page of its own for browsers without JavaScript.
type securityData struct {
	DS       *tenantlink.DataSource
	Security *tenantlink.Security
	Users    []*tenantlink.User
	Groups   []*tenantlink.Group
	CSRF     string
	// Dialog is set when the form is the details page's <dialog>.
	Dialog bool
}

// loadSecurity reads the settings through the service (which checks that
// the caller administers the data source), then the directory's users and
// groups to choose from (datasource.SecurityChoices: a connection
// administrator holding just Manage datasources must be able to choose
// them here, though the directory lists users to Administrators only).
func (h *handler) loadSecurity(r *http.Request, ds *tenantlink.DataSource) (*securityData, error) {
	sec, err := h.DataSources.GetSecurity(r.Context(), web.PrincipalFrom(r.Context()), ds.ID)
	if err != nil {
		return nil, err
	}
	users, groups, err := h.DataSources.SecurityChoices(r.Context(), web.PrincipalFrom(r.Context()), ds.ID)
	if err != nil {
		return nil, err
	}
	return &securityData{DS: ds, Security: sec, Users: users, Groups: groups, CSRF: web.CSRFToken(r.Context())}, nil
}

func (h *handler) showSecurity(w http.ResponseWriter, r *http.Request) error {
	ds, err := h.DataSources.Get(r.Context(), web.PrincipalFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		return err
	}
	sd, err := h.loadSecurity(r, ds)
	if err != nil {
		return err
	}
	p := h.newPage(r, "Security settings", "datasources", sd)
	return h.render(w, http.StatusOK, "datasource_security", p)
}

func (h *handler) saveSecurity(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return tenantlink.Errorf(tenantlink.EINVALID, "unreadable form: %s", err.Error())
	}
	id := r.PathValue("id")
	sec := tenantlink.Security{Admins: r.PostForm["admins"], Users: r.PostForm["users"], Writers: r.PostForm["writers"]}
	_, err := h.DataSources.PutSecurity(r.Context(), web.PrincipalFrom(r.Context()), id, sec)
	if fieldError(err) {
		// A refused list (a member deleted meanwhile, too many entries)
		// comes back as ticked, with the reason, rather than as an error
		// page that loses the other choices.
		return h.renderSecurityAgain(w, r, id, sec, err)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/datasources/"+id+"?notice=security", http.StatusSeeOther)
	return nil
}

// renderSecurityAgain shows the security form with the submitted lists
// and the service's refusal err.
func (h *handler) renderSecurityAgain(w http.ResponseWriter, r *http.Request, id string, sec tenantlink.Security, err error) error {
	ds, gerr := h.DataSources.Get(r.Context(), web.PrincipalFrom(r.Context()), id)
	if gerr != nil {
		return gerr
	}
	sd, lerr := h.loadSecurity(r, ds)
	if lerr != nil {
		return lerr
	}
	sd.Security = &sec
	p := h.newPage(r, "Security settings", "datasources", sd)
	p.Notify(tenantlink.ErrorMessage(err), true)
	return h.render(w, web.Status(tenantlink.ErrorCode(err)), "datasource_security", p)
}
