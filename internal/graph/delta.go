package graph

import (
	"context"
	"fmt"
	"net/http"
	"slices"
)

// deltaPage is one page of a delta round: nextLink until the last page,
// which carries deltaLink instead.
type deltaPage[T any] struct {
	Value     []T    `json:"value"`
	NextLink  string `json:"@odata.nextLink"`
	DeltaLink string `json:"@odata.deltaLink"`
}

// UsersDelta runs one delta round over users. link "" starts a full round
// (tracking sel, nil meaning UserFields); otherwise it is the deltaLink
// of the previous round, followed verbatim. Non-empty pages go to fn; the
// returned deltaLink starts the next round. An expired or refused token
// gives an error matching ErrDeltaExpired: start again with link "".
func (c *Client) UsersDelta(ctx context.Context, link string, sel []string, fn func(DeltaPage) error) (string, error) {
	if link == "" {
		link = c.endpoint("/users/delta", Query{Select: sel}.encode(UserFields, 0))
	}
	return delta(ctx, c, link, "", nil, func(v []DeltaUser) error { return fn(DeltaPage{Users: v}) })
}

// UsersDeltaMinimal is UsersDelta for a round that starts from a
// deltaLink, sent with "Prefer: return=minimal": Graph then answers a
// changed user with only the properties that changed (null for one
// cleared) and leaves the others out, which DeltaUser.Has tells apart
// (https://learn.microsoft.com/en-us/graph/api/user-delta — "Alternative:
// return only the changed properties"). New users still come with every
// property set. link must not be "".
func (c *Client) UsersDeltaMinimal(ctx context.Context, link string, fn func(DeltaPage) error) (string, error) {
	if link == "" {
		return "", fmt.Errorf("graph: users delta: a minimal round needs the previous round's deltaLink")
	}
	return delta(ctx, c, link, "return=minimal", nil, func(v []DeltaUser) error { return fn(DeltaPage{Users: v}) })
}

// GroupsDelta is UsersDelta for groups. sel nil means GroupFields plus
// "members", so membership changes arrive as members@delta.
func (c *Client) GroupsDelta(ctx context.Context, link string, sel []string, fn func(DeltaPage) error) (string, error) {
	if link == "" {
		if sel == nil {
			sel = append(slices.Clone(GroupFields), "members")
		}
		link = c.endpoint("/groups/delta", Query{Select: sel}.encode(nil, 0))
	}
	return delta(ctx, c, link, "", nil, func(v []DeltaGroup) error { return fn(DeltaPage{Groups: v}) })
}

// delta runs a delta round from link, sending prefer with each request.
// Its first page, when first is not nil, is first: the $batch answer to
// the GET of link.
func delta[T any](ctx context.Context, c *Client, link, prefer string, first *BatchResponse, fn func([]T) error) (string, error) {
	for {
		var p deltaPage[T]
		if err := c.readPage(ctx, request{method: http.MethodGet, url: link, prefer: prefer}, first, &p); err != nil {
			return "", err
		}
		first = nil
		if len(p.Value) > 0 {
			if err := fn(p.Value); err != nil {
				return "", err
			}
		}
		switch {
		case p.DeltaLink != "":
			return p.DeltaLink, nil
		case p.NextLink == "":
			return "", fmt.Errorf("graph: GET %s: delta page has neither @odata.nextLink nor @odata.deltaLink", opPath(link))
		case p.NextLink == link:
			return "", fmt.Errorf("graph: GET %s: @odata.nextLink points at the same page", opPath(link))
		}
		link = p.NextLink
	}
}
