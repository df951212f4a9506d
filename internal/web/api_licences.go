package web

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
)

func (s *Server) getLicenceReport(w http.ResponseWriter, r *http.Request) error {
	_, rep, err := s.cfg.DataSources.LicenceReport(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	if r.URL.Query().Get("format") != "csv" {
		return WriteJSON(w, 200, rep)
	}
	users, _ := strconv.ParseBool(r.URL.Query().Get("users"))
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	name := "licence-report.csv"
	if users {
		name = "licence-report-users.csv"
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	return WriteLicenceCSV(w, rep, users)
}

// WriteLicenceCSV writes the report's figures, one row per SKU, or with
// users one row per user behind a reclaimable (or group error) figure.
func WriteLicenceCSV(w http.ResponseWriter, rep *connector.LicenceReport, users bool) error {
	cw := csv.NewWriter(w)
	if !users {
		cw.Write([]string{"skuId", "skuPartNumber", "productName", "enabled", "assigned", "available", "reclaimableDisabled", "reclaimableDuplicate"})
		for _, s := range rep.SKUs {
			cw.Write([]string{s.SkuID, s.SkuPartNumber, csvSafe(s.ProductName), strconv.Itoa(s.Enabled), strconv.Itoa(s.Assigned),
				strconv.Itoa(s.Available), strconv.Itoa(s.ReclaimableDisabled), strconv.Itoa(s.ReclaimableDuplicate)})
		}
	} else {
		cw.Write([]string{"skuId", "skuPartNumber", "reason", "userId", "userPrincipalName", "displayName", "accountEnabled", "groupIds", "error"})
		for _, s := range rep.SKUs {
			for _, set := range []struct {
				reason string
				users  []connector.LicenceUser
			}{{"disabled", s.DisabledUsers}, {"duplicate", s.DuplicateUsers}, {"disabledThroughGroup", s.DisabledThroughGroups}, {"groupError", s.GroupErrors}} {
				for _, u := range set.users {
					cw.Write([]string{s.SkuID, s.SkuPartNumber, set.reason, u.ID, csvSafe(u.UserPrincipalName), csvSafe(u.DisplayName),
						strconv.FormatBool(u.AccountEnabled), strings.Join(u.GroupIDs, " "), u.Error})
				}
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula (names come
// from the tenant, which anyone with a mailbox may influence).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (s *Server) reclaimLicences(w http.ResponseWriter, r *http.Request) error {
	res, err := s.cfg.DataSources.ReclaimLicences(r.Context(), principal(r), r.PathValue("id"))
	if err != nil && len(res) == 0 {
		return err
	}
	out := map[string]any{"results": res}
	if err != nil {
		// Some SKUs were reclaimed before a later one was refused.
		var b errorBody
		b.Error.Code, b.Error.Message = tenantlink.ErrorCode(err), tenantlink.ErrorMessage(err)
		out["error"] = b.Error
		return WriteJSON(w, Status(b.Error.Code), out)
	}
	return WriteJSON(w, 200, out)
}
