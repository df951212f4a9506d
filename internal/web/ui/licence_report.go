package ui

import (
	"net/http"
	"net/url"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/datasource"
	"github.com/tenantlink/tenantlink/internal/web"
)

// licencePage feeds the licence report page.
type licencePage struct {
	DS      *tenantlink.DataSource
	Report  *connector.LicenceReport
	Chart   licenceChart
	CSRF    string
	CSVURL  string
	Results []datasource.ReclaimResult
	Error   string
	// Reclaimable is the number of units one click frees.
	Reclaimable int
}

// licenceChart is the bar chart of use per SKU, laid out here so the
// template only places shapes (inline SVG: no script, no external service).
type licenceChart struct {
	Width, Height int
	Bars          []licenceBar
}

type licenceBar struct {
	Label                      string
	Y, TextY                   int
	EnabledW, AssignedW        int
	ReclaimX, ReclaimW         int
	Enabled, Assigned, Reclaim int
}

const (
	chartLabelW = 220
	chartBarW   = 420
	chartRowH   = 30
)

func chartFor(rep *connector.LicenceReport) licenceChart {
	top := 1
	for _, s := range rep.SKUs {
		top = max(top, s.Enabled, s.Assigned)
	}
	scale := func(n int) int { return n * chartBarW / top }
	c := licenceChart{Width: chartLabelW + chartBarW + 90, Height: len(rep.SKUs)*chartRowH + 10}
	for i, s := range rep.SKUs {
		y := 5 + i*chartRowH
		b := licenceBar{Label: s.SkuPartNumber, Y: y, TextY: y + 16, EnabledW: scale(s.Enabled), AssignedW: scale(s.Assigned),
			Enabled: s.Enabled, Assigned: s.Assigned, Reclaim: s.ReclaimableDisabled}
		// The reclaimable units are the tail of the assigned bar.
		b.ReclaimW = scale(s.ReclaimableDisabled)
		b.ReclaimX = chartLabelW + b.AssignedW - b.ReclaimW
		c.Bars = append(c.Bars, b)
	}
	return c
}

func (h *handler) licencePage(r *http.Request, id string) (*licencePage, error) {
	ds, rep, err := h.Licences.LicenceReport(r.Context(), web.PrincipalFrom(r.Context()), id)
	if err != nil {
		return nil, err
	}
	p := &licencePage{DS: ds, Report: rep, Chart: chartFor(rep), CSRF: web.CSRFToken(r.Context()),
		CSVURL: "/api/v1/datasources/" + url.PathEscape(ds.ID) + "/licences/report?format=csv"}
	for _, s := range rep.SKUs {
		p.Reclaimable += s.ReclaimableDisabled
	}
	return p, nil
}

func (h *handler) showLicences(w http.ResponseWriter, r *http.Request) error {
	p, err := h.licencePage(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.render(w, http.StatusOK, "licence_report", h.newPage(r, "Licences", "datasources", p))
}

// reclaimLicences is the one-click reclaim: the form's confirmation box
// must be ticked (without JavaScript there is no dialog), and the service
// checks the data source's write permission.
func (h *handler) reclaimLicences(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if r.PostFormValue("confirm") != "yes" {
		p, err := h.licencePage(r, id)
		if err != nil {
			return err
		}
		p.Error = "Tick the confirmation box to reclaim the licences."
		return h.render(w, http.StatusBadRequest, "licence_report", h.newPage(r, "Licences", "datasources", p))
	}
	res, rerr := h.Licences.ReclaimLicences(r.Context(), web.PrincipalFrom(r.Context()), id)
	if rerr != nil && len(res) == 0 && tenantlink.ErrorCode(rerr) == tenantlink.EINTERNAL {
		return rerr
	}
	p, err := h.licencePage(r, id) // the figures after reclaiming
	if err != nil {
		return err
	}
	p.Results = res
	status := http.StatusOK
	if rerr != nil {
		p.Error = tenantlink.ErrorMessage(rerr)
		status = web.Status(tenantlink.ErrorCode(rerr))
	}
	return h.render(w, status, "licence_report", h.newPage(r, "Licences", "datasources", p))
}
