package ui

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
	"github.com/tenantlink/tenantlink/internal/web"
)

// perPage is how many rows a paged list shows.
const perPage = 50

// pageNumber reads a 1-based page number; anything unreadable is page 1.
func pageNumber(r *http.Request, name string) int {
	n, err := strconv.Atoi(r.URL.Query().Get(name))
	if err != nil || n < 1 || n > 1_000_000 {
		return 1
	}
	return n
}

// pageUsers lists page (1-based) of the users f matches, perPage of
// them, and whether another page follows.
func (h *handler) pageUsers(r *http.Request, f store.UserFilter, page int) ([]*tenantlink.User, bool, error) {
	f.Limit, f.Offset = perPage+1, (page-1)*perPage
	users, err := h.Users.ListUsers(r.Context(), web.PrincipalFrom(r.Context()), f)
	if err != nil {
		return nil, false, err
	}
	if len(users) > perPage {
		return users[:perPage], true, nil
	}
	return users, false, nil
}

// withQuery is path with q's parameters, set replaced by the pairs in kv
// (an empty value drops the parameter): the links of pagers and sortable
// columns keep the rest of the query.
func withQuery(path string, q url.Values, kv ...string) string {
	out := url.Values{}
	for k, v := range q {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			out.Del(kv[i])
		} else {
			out.Set(kv[i], kv[i+1])
		}
	}
	if len(out) == 0 {
		return path
	}
	return path + "?" + out.Encode()
}
