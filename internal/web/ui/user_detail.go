package ui

import (
	"net/http"
	"slices"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/web"
)

type userDetailData struct {
	User *tenantlink.User
	// Groups are the user's directory groups; Effective the roles held
	// directly and through them.
	Groups    []*tenantlink.Group
	Effective []tenantlink.Role
	// DataSource names the data source an imported user came from ("" for
	// local users; the id when the data source is gone).
	DataSource   string
	DataSourceID string
}

// showUser is a user's page: names, status, roles (own and through
// groups), groups and where the user comes from. It is a directory
// administration screen: Administrators only, like the list.
func (h *handler) showUser(w http.ResponseWriter, r *http.Request) error {
	var ns []notice
	if msg, ok := userNotices[r.URL.Query().Get("notice")]; ok {
		ns = append(ns, notice{Message: msg})
	}
	return h.renderUser(w, r, http.StatusOK, ns)
}

func (h *handler) renderUser(w http.ResponseWriter, r *http.Request, status int, ns []notice) error {
	ctx := r.Context()
	pr := web.PrincipalFrom(ctx)
	// Listing groups needs the Administrator role; asking first keeps a
	// user from reading even their own page here.
	groups, err := h.Groups.ListGroups(ctx, pr)
	if err != nil {
		return err
	}
	u, err := h.Users.GetUser(ctx, pr, r.PathValue("id"))
	if err != nil {
		return err
	}
	d := userDetailData{User: u, Effective: slices.Clone(u.Roles)}
	for _, g := range groups {
		if slices.Contains(u.Groups, g.ID) {
			d.Groups = append(d.Groups, g)
			d.Effective = append(d.Effective, g.Roles...)
		}
	}
	slices.Sort(d.Effective)
	d.Effective = slices.Compact(d.Effective)
	if u.Source != nil {
		d.DataSourceID, d.DataSource = u.Source.DataSource, u.Source.DataSource
		if list, err := h.DataSources.List(ctx, pr, ""); err == nil {
			for _, ds := range list {
				if ds.ID == u.Source.DataSource {
					d.DataSource = ds.Name
				}
			}
		}
	}
	p := h.newPage(r, u.DisplayName, "users", d)
	p.Notices = ns
	return h.render(w, status, "user_detail", p)
}
