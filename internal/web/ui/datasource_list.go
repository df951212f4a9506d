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
}

type dataSourceListData struct {
	Search string
	Rows   []dataSourceRow
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
	// The list is the administration view; people who only use data
	// sources see them where they use them, not here.
	if err := datasource.CanAdminister(pr, nil); err != nil {
		return err
	}
	search := r.URL.Query().Get("search")
	all, err := h.DataSources.List(r.Context(), pr, search)
	if err != nil {
		return err
	}
	infos := map[string]connector.Info{}
	for _, info := range h.DataSources.Catalogue() {
		infos[info.Type] = info
	}
	data := dataSourceListData{Search: search}
	for _, ds := range all {
		info, ok := infos[ds.Type]
		if !ok {
			info = connector.Info{Type: ds.Type, Title: ds.Type}
		}
		data.Rows = append(data.Rows, dataSourceRow{DataSource: ds, Connector: info})
	}
	p := h.newPage(r, "Datasource management", "datasources", data)
	if msg, ok := notices[r.URL.Query().Get("notice")]; ok {
		p.Notices = append(p.Notices, notice{Message: msg})
	}
	return h.render(w, http.StatusOK, "datasource_list", p)
}
