package ui

import (
	"net/http"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/datasource"
	"github.com/tenantlink/tenantlink/internal/web"
)

// detailsData feeds the Office 365 data connector page, for a data source
// that exists and for one not saved yet (New, with a draft).
type detailsData struct {
	New         bool
	Action      string
	Connector   connector.Info
	DS          *tenantlink.DataSource
	ReminderDue bool
	Security    *securityData // nil until the data source exists
	// Ops is the "Run an operation" panel, for connection users only.
	Ops *opPanel
	// Subscriptions are the data source's real-time subscriptions (change
	// notifications for real-time group member sync) with their state.
	Subscriptions []tenantlink.SubscriptionState
}

func (h *handler) connectorInfo(typ string) connector.Info {
	for _, info := range h.DataSources.Catalogue() {
		if info.Type == typ {
			return info
		}
	}
	return connector.Info{Type: typ, Title: typ}
}

func (h *handler) newDataSource(typ string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := datasource.CanAdminister(web.PrincipalFrom(r.Context()), nil); err != nil {
			return err
		}
		return h.renderDetails(w, r, http.StatusOK, draft(typ), nil)
	}
}

// draft is the data source a new form starts from: the service's defaults.
func draft(typ string) *tenantlink.DataSource {
	return &tenantlink.DataSource{Type: typ, Status: tenantlink.StatusIncomplete,
		StatusMessage: "Not authorized yet: click Authorize.",
		Settings:      tenantlink.DataSourceSettings{AuthMode: tenantlink.AuthDelegated}}
}

func (h *handler) showDataSource(w http.ResponseWriter, r *http.Request) error {
	pr := web.PrincipalFrom(r.Context())
	ds, err := h.DataSources.Get(r.Context(), pr, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := datasource.CanAdminister(pr, ds); err != nil {
		return err
	}
	var ns []notice
	switch code := r.URL.Query().Get("notice"); code {
	case "tested":
		// The test's outcome is the status message it just stored.
		ns = append(ns, notice{Message: ds.StatusMessage, Error: ds.Status != tenantlink.StatusReady})
	default:
		if msg, ok := notices[code]; ok {
			ns = append(ns, notice{Message: msg})
		}
	}
	return h.renderDetails(w, r, http.StatusOK, ds, ns)
}

func (h *handler) renderDetails(w http.ResponseWriter, r *http.Request, status int, ds *tenantlink.DataSource, ns []notice) error {
	d := detailsData{New: ds.ID == "", Connector: h.connectorInfo(ds.Type), DS: ds, ReminderDue: datasource.ReminderDue(ds, h.Now())}
	if d.New {
		d.Action = "/datasources/new/" + ds.Type
	} else {
		d.Action = "/datasources/" + ds.ID
		sec, err := h.loadSecurity(r, ds)
		if err != nil {
			return err
		}
		sec.Dialog = true
		d.Security = sec
		ops, err := h.newOpPanel(r, ds, d.Action, r.URL.Query().Get("op"))
		if err != nil {
			return err
		}
		d.Ops = ops
		if h.Subscriptions != nil {
			// The page is for those who may administer the data source
			// (showDataSource checked): its subscriptions are part of its
			// settings.
			if d.Subscriptions, err = h.Subscriptions(r.Context(), ds.ID); err != nil {
				return err
			}
		}
	}
	title := d.Connector.Title + " data connector"
	p := h.newPage(r, title, "datasources", d)
	p.Notices = ns
	// Also on a new data source's page: its panel appears once authorized.
	p.Script = resultsScript
	return h.render(w, status, "datasource_details", p)
}

// formInput reads the details form. Unchecked boxes are absent from a
// form post, so every setting is sent explicitly.
func formInput(r *http.Request) datasource.Input {
	name := r.PostFormValue("name")
	rw, sso := formBool(r, "readWrite"), formBool(r, "singleSignOn")
	mode := r.PostFormValue("authMode")
	if mode == "" {
		mode = tenantlink.AuthDelegated
	}
	return datasource.Input{Name: &name, Settings: &datasource.SettingsInput{ReadWrite: &rw, SingleSignOn: &sso, AuthMode: &mode}}
}

// withInput shows the submitted values on top of ds, so that a refused
// form comes back as the person left it.
func withInput(ds *tenantlink.DataSource, in datasource.Input) *tenantlink.DataSource {
	c := *ds
	c.Name = *in.Name
	c.Settings.ReadWrite, c.Settings.SingleSignOn, c.Settings.AuthMode = *in.Settings.ReadWrite, *in.Settings.SingleSignOn, *in.Settings.AuthMode
	return &c
}
