package ui

import (
	"net/http"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/sso"
	"github.com/tenantlink/tenantlink/internal/web"
	"github.com/tenantlink/tenantlink/internal/web/page"
)

type ssoSettingsData struct {
	Settings    sso.Settings
	DataSources []ssoChoice
	Groups      []*tenantlink.Group
}

// ssoChoice is an Office 365 data source in the picker, with why it
// cannot be chosen yet (the service refuses it with the same reason).
type ssoChoice struct {
	ID, Name, Why string
}

func (h *handler) ssoSettingsPage(r *http.Request, set sso.Settings) (*page.Page, error) {
	pr := web.PrincipalFrom(r.Context())
	all, err := h.DataSources.List(r.Context(), pr, "")
	if err != nil {
		return nil, err
	}
	d := ssoSettingsData{Settings: set}
	for _, ds := range all {
		if ds.Type != tenantlink.ConnectorOffice365 {
			continue
		}
		c := ssoChoice{ID: ds.ID, Name: ds.Name}
		switch {
		case !ds.Settings.SingleSignOn:
			c.Why = "single sign-on off"
		case ds.AuthorizedAt == nil:
			c.Why = "not authorized"
		}
		d.DataSources = append(d.DataSources, c)
	}
	if d.Groups, err = h.Groups.ListGroups(r.Context(), pr); err != nil {
		return nil, err
	}
	return h.newPage(r, "Single sign-on", "sso", d), nil
}

func (h *handler) showSSOSettings(w http.ResponseWriter, r *http.Request) error {
	set, err := h.SSO.Get(r.Context(), web.PrincipalFrom(r.Context()))
	if err != nil {
		return err
	}
	p, err := h.ssoSettingsPage(r, set)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("saved") == "1" {
		p.Notices = []notice{{Message: "Single sign-on settings saved."}}
	}
	return h.render(w, http.StatusOK, "sso_settings", p)
}

func (h *handler) saveSSOSettings(w http.ResponseWriter, r *http.Request) error {
	in := sso.Settings{
		Enabled: formBool(r, "enabled"), DataSource: r.PostFormValue("datasource"),
		AutoRedirect: formBool(r, "autoRedirect"), BypassGroup: r.PostFormValue("bypassGroup"),
		CreateUsers: formBool(r, "createUsers"),
	}
	_, err := h.SSO.Put(r.Context(), web.PrincipalFrom(r.Context()), in)
	if fieldError(err) {
		p, perr := h.ssoSettingsPage(r, in)
		if perr != nil {
			return perr
		}
		p.Notices = []notice{{Message: tenantlink.ErrorMessage(err), Error: true}}
		return h.render(w, http.StatusBadRequest, "sso_settings", p)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/settings/sso?saved=1", http.StatusSeeOther)
	return nil
}
