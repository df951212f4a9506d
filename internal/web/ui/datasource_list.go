package ui

import (
	"net/http"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/datasource"
	"github.com/tenantlink/tenantlink/internal/web"
)

type dataSourceRow struct {
	*tenantlink.DataSource
	Connector connector.Info
	// Manage: the viewer administers this data source (details page and
	// Bin); otherwise the row leads to its operations.
	Manage bool
}

type dataSourceListData struct {
	Search string
	Rows   []dataSourceRow
	// Manage: the viewer holds a data source role (+ Add new).
	Manage bool
}

// notices maps the ?notice= codes that redirects carry to fixed messages,
// so that a crafted link cannot make the page say anything else.
var notices = map[string]string{
	"saved":    "Details saved successfully",
	"security": "Security settings saved",
	"deleted":  "Data source deleted",
}

func (h *handler) listDataSources(w http.ResponseWriter, r *http.Request) error {
	pr := web.PrincipalFrom(r.Context())
	// Managers see the administration view; everyone else the data
	// sources they may run operations on (List filters by access), which
	// is how a connection user reaches the operations page.
	manage := datasource.CanAdminister(pr, nil) == nil
	search := r.URL.Query().Get("search")
	all, err := h.DataSources.List(r.Context(), pr, search)
	if err != nil {
		return err
	}
	infos := map[string]connector.Info{}
	for _, info := range h.DataSources.Catalogue() {
		infos[info.Type] = info
	}
	data := dataSourceListData{Search: search, Manage: manage}
	for _, ds := range all {
		info, ok := infos[ds.Type]
		if !ok {
			info = connector.Info{Type: ds.Type, Title: ds.Type}
		}
		data.Rows = append(data.Rows, dataSourceRow{DataSource: ds, Connector: info, Manage: manage && datasource.CanAdminister(pr, ds) == nil})
	}
	title := "Datasource management"
	if !manage {
		title = "Data sources"
	}
	p := h.newPage(r, title, "datasources", data)
	if msg, ok := notices[r.URL.Query().Get("notice")]; ok {
		p.Notices = append(p.Notices, notice{Message: msg})
	}
	return h.render(w, http.StatusOK, "datasource_list", p)
}
