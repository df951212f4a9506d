package ui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/datasource"
	"github.com/tenantlink/tenantlink/internal/web"
)

// runOperation is the panel's Run without JavaScript: it runs the chosen
// operation through the same service method as the API and renders the
// operations page with the rows, or with the refusal next to the form
// that caused it.
func (h *handler) runOperation(w http.ResponseWriter, r *http.Request) error {
	pr := web.PrincipalFrom(r.Context())
	name := r.PostFormValue("op")
	ds, err := h.DataSources.Get(r.Context(), pr, r.PathValue("id"))
	if tenantlink.ErrorCode(err) == tenantlink.EFORBIDDEN {
		// The service's refusal for this operation says what is missing
		// (for a write operation, the write grant), as the API does.
		if cerr := h.Operations.Check(r.Context(), pr, r.PathValue("id"), name); cerr != nil {
			return cerr
		}
	}
	if err != nil {
		return err
	}
	// Someone who may only administer the data source gets the 403 page:
	// there is no panel to show them the refusal in. The service gives the
	// refusal (for a write operation, the missing write grant).
	if datasource.CanUse(pr, ds) != nil {
		if err := h.Operations.Check(r.Context(), pr, ds.ID, name); err != nil {
			return err
		}
		return tenantlink.Errorf(tenantlink.EFORBIDDEN, "You are not a connection user of data source %q (see its Security settings).", ds.Name)
	}
	panel, err := h.newOpPanel(r, ds, "/datasources/"+url.PathEscape(ds.ID)+"/operations", name)
	if err != nil {
		return err
	}
	if panel == nil {
		return tenantlink.Errorf(tenantlink.EINVALID, "%s data sources offer no operations.", ds.Type)
	}
	if panel.Selected == nil {
		status := http.StatusBadRequest
		if name == "" {
			panel.Error = "Choose an operation to run."
		} else if err := h.Operations.Check(r.Context(), pr, ds.ID, name); tenantlink.ErrorCode(err) == tenantlink.EFORBIDDEN {
			// A write operation the panel does not offer: the service's
			// refusal names the missing right or setting.
			panel.Error, status = tenantlink.ErrorMessage(err), http.StatusForbidden
		}
		return h.renderOperations(w, r, status, panel)
	}
	inputs, values := operationForm(r, *panel.Selected)
	panel.Values = values
	items, err := h.Operations.RunOperation(r.Context(), pr, ds.ID, panel.Selected.Name, inputs)
	if err != nil {
		code := tenantlink.ErrorCode(err)
		if code == tenantlink.EINTERNAL && len(items) == 0 {
			return err
		}
		panel.Error = tenantlink.ErrorMessage(err)
		if len(items) > 0 {
			// A partial result: show every item's outcome with the error.
			panel.Ran, panel.Items = true, items
		}
		return h.renderOperations(w, r, web.Status(code), panel)
	}
	panel.Ran, panel.Items = true, items
	return h.renderOperations(w, r, http.StatusOK, panel)
}

// operationForm reads op's declared inputs from the panel's form (fields
// "in.NAME") into the inputs the service takes, and the text to show the
// form again with. Empty fields are left out, as "not given"; user and
// list inputs take entries separated by new lines, commas or semicolons
// (connector.SplitList).
func operationForm(r *http.Request, op connector.Operation) (map[string]any, map[string]string) {
	inputs, values := map[string]any{}, map[string]string{}
	for _, p := range op.Inputs {
		field := "in." + p.Name
		if p.Type == "boolean" {
			b := formBool(r, field)
			inputs[p.Name], values[p.Name] = b, strconv.FormatBool(b)
			continue
		}
		v := r.PostFormValue(field)
		values[p.Name] = v
		if strings.TrimSpace(v) == "" {
			continue
		}
		switch p.Type {
		case "users", "list":
			// The same rule as the API's text lists: new lines, commas
			// or semicolons.
			var list []any
			for _, e := range connector.SplitList(v) {
				list = append(list, e)
			}
			inputs[p.Name] = list
		default:
			// Integers go as text too: the operation parses and
			// range-checks them with the message the API gives.
			inputs[p.Name] = v
		}
	}
	return inputs, values
}
