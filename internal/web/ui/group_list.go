package ui

import (
	"net/http"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/web"
)

type groupRow struct {
	*tenantlink.Group
	MemberNames []string
}

func (h *handler) listGroups(w http.ResponseWriter, r *http.Request) error {
	pr := web.PrincipalFrom(r.Context())
	groups, err := h.Directory.ListGroups(r.Context(), pr)
	if err != nil {
		return err
	}
	users, err := h.Directory.ListUsers(r.Context(), pr, store.UserFilter{})
	if err != nil {
		return err
	}
	emails := make(map[string]string, len(users))
	for _, u := range users {
		emails[u.ID] = u.Email
	}
	rows := make([]groupRow, 0, len(groups))
	for _, g := range groups {
		row := groupRow{Group: g}
		for _, m := range g.Members {
			if e, ok := emails[m]; ok {
				row.MemberNames = append(row.MemberNames, e)
			} else {
				row.MemberNames = append(row.MemberNames, m)
			}
		}
		rows = append(rows, row)
	}
	return h.render(w, http.StatusOK, "group_list", h.newPage(r, "Groups", "groups", rows))
}
