package m365sim

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/tenantlink/tenantlink/m365sim/odata"
)

// listQuery is a parsed OData list request.
type listQuery struct {
	sel    []string
	filter *odata.Filter
	search *odata.Search
	order  []odata.OrderBy
	top    int
	count  bool // @odata.count requested (and allowed)
	cursor pageToken
	first  bool
}

// pageToken is the content of an opaque $skiptoken: either the insertion
// order to resume after (unordered lists, O(log n) to resolve) or an
// offset into an ordered result.
type pageToken struct {
	After  int64  `json:"a,omitempty"`
	Offset int    `json:"o,omitempty"`
	Kind   string `json:"k"`
}

func encodeToken(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(s string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return false
	}
	return json.Unmarshal(b, v) == nil
}

var errUnsupportedQuery = gerr(400, "Request_UnsupportedQuery", "Unsupported Query.")

// parseList applies Graph's rules for $select, $filter, $search, $orderby,
// $top, $count and ConsistencyLevel to a directory collection.
func (rq *req) parseList(kind string, known map[string]string, typ string) (*listQuery, error) {
	q := rq.q
	lq := &listQuery{top: 100, first: true}
	eventual := rq.eventual()
	countTrue := strings.EqualFold(q.Get("$count"), "true")
	if _, ok := q["$skip"]; ok {
		return nil, badRequest("'$skip' is not supported by the service.")
	}
	sel, err := selectFor(q.Get("$select"), known, typ)
	if err != nil {
		return nil, err
	}
	lq.sel = sel
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 999 {
			return nil, badRequest("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", v)
		}
		lq.top = n
	}
	if v, ok := q["$search"]; ok {
		if !eventual {
			return nil, gerr(400, "Request_UnsupportedQuery", "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'")
		}
		s, err := odata.ParseSearch(v[0])
		if err != nil {
			return nil, err
		}
		lq.search = s
	}
	if v := q.Get("$filter"); v != "" {
		f, err := odata.ParseFilter(v)
		if err != nil {
			return nil, err
		}
		if f.Advanced() && !(eventual && countTrue) {
			return nil, errUnsupportedQuery
		}
		lq.filter = f
	}
	if v := q.Get("$orderby"); v != "" {
		o, err := odata.ParseOrderBy(v)
		if err != nil {
			return nil, err
		}
		if lq.filter != nil && !(eventual && countTrue) {
			return nil, errUnsupportedQuery
		}
		lq.order = o
	}
	lq.count = countTrue && eventual
	if v := q.Get("$skiptoken"); v != "" {
		if !decodeToken(v, &lq.cursor) || lq.cursor.Kind != kind {
			return nil, badRequest("Invalid $skiptoken value.")
		}
		lq.first = false
	}
	return lq, nil
}

// page is one page of a list.
type page[T any] struct {
	items []T
	next  *pageToken
	count int
}

// paginate walks objects in insertion order (or sorted, with $orderby),
// applying filter and search, and returns one page. ordOf gives an object's
// insertion order; get its property getter.
func paginate[T any](objs []T, lq *listQuery, kind string, ordOf func(T) int64, get func(T) odata.Getter) page[T] {
	match := func(x T) bool {
		if lq.filter == nil && lq.search == nil {
			return true
		}
		g := get(x)
		if lq.filter != nil && !lq.filter.Match(g) {
			return false
		}
		return lq.search == nil || lq.search.Match(g)
	}
	var pg page[T]
	if lq.count && lq.first {
		for _, x := range objs {
			if match(x) {
				pg.count++
			}
		}
	}
	if len(lq.order) > 0 {
		var all []T
		for _, x := range objs {
			if match(x) {
				all = append(all, x)
			}
		}
		sortBy(all, lq.order, get)
		start := min(lq.cursor.Offset, len(all))
		end := min(start+lq.top, len(all))
		pg.items = all[start:end]
		if end < len(all) {
			pg.next = &pageToken{Kind: kind, Offset: end}
		}
		return pg
	}
	i := 0
	if lq.cursor.After > 0 {
		i = sort.Search(len(objs), func(i int) bool { return ordOf(objs[i]) > lq.cursor.After })
	}
	pg.items = make([]T, 0, max(0, min(lq.top, len(objs)-i)))
	for ; i < len(objs); i++ {
		if !match(objs[i]) {
			continue
		}
		if len(pg.items) == lq.top {
			pg.next = &pageToken{Kind: kind, After: ordOf(pg.items[len(pg.items)-1])}
			break
		}
		pg.items = append(pg.items, objs[i])
	}
	return pg
}

func sortBy[T any](all []T, order []odata.OrderBy, get func(T) odata.Getter) {
	sort.SliceStable(all, func(i, j int) bool {
		gi, gj := get(all[i]), get(all[j])
		for _, o := range order {
			a, _ := gi(o.Property)
			b, _ := gj(o.Property)
			as, bs := strings.ToLower(toString(a)), strings.ToLower(toString(b))
			if as == bs {
				continue
			}
			if o.Desc {
				return as > bs
			}
			return as < bs
		}
		return false
	})
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// nextLink is the current URL with $skiptoken replaced.
func (rq *req) nextLink(tok any) string {
	q := url.Values{}
	for k, v := range rq.q {
		if k != "$skiptoken" && k != "$deltatoken" {
			q[k] = v
		}
	}
	q.Set("$skiptoken", encodeToken(tok))
	return rq.base + strings.TrimPrefix(rq.r.URL.Path, "/v1.0") + "?" + encodeQuery(q)
}

// encodeQuery keeps "$" readable in links, as Graph's are.
func encodeQuery(q url.Values) string {
	return strings.NewReplacer("%24", "$", "%2C", ",").Replace(q.Encode())
}

// collection writes a collection response.
func (rq *req) collection(context string, lq *listQuery, count int, next *pageToken, value []obj) {
	body := obj{{"@odata.context", rq.context(context)}}
	if lq != nil && lq.count && lq.first {
		body = append(body, kv{"@odata.count", count})
	}
	if next != nil {
		body = append(body, kv{"@odata.nextLink", rq.nextLink(next)})
	}
	if value == nil {
		value = []obj{}
	}
	body = append(body, kv{"value", value})
	rq.json(200, body)
}

func selectContext(entity string, sel []string) string {
	if len(sel) == 0 {
		return entity
	}
	return entity + "(" + strings.Join(sel, ",") + ")"
}
