package graph

import (
	"context"
	"fmt"
	"net/http"

	jsonv2 "github.com/go-json-experiment/json"
)

// Delta rounds whose first page travels in a $batch: a caller that needs
// several small reads at once (a real-time run of a group sync reads the
// group's membership delta, users' delta and the users just added) sends
// their first requests in one envelope — one HTTP round trip, each item
// still counted by Graph against its limits — and follows each round's
// nextLinks, if any, on their own.

// UsersDeltaMinimalRequest is the $batch item of a minimal users delta
// round from deltaLink link (UsersDeltaMinimal's first request).
func (c *Client) UsersDeltaMinimalRequest(id, link string) BatchRequest {
	return BatchRequest{ID: id, Method: http.MethodGet, URL: c.relative(link), Headers: map[string]string{"Prefer": "return=minimal"}}
}

// GroupsDeltaRequest is the $batch item of a groups delta round from
// deltaLink link (GroupsDelta's first request).
func (c *Client) GroupsDeltaRequest(id, link string) BatchRequest {
	return BatchRequest{ID: id, Method: http.MethodGet, URL: c.relative(link)}
}

// ListUsersRequest is the $batch item of the first page of ListUsers(q).
func (c *Client) ListUsersRequest(id string, q Query) BatchRequest {
	return BatchRequest{ID: id, Method: http.MethodGet, URL: c.relative(c.endpoint(castPath("/users", q.Type), q.encode(UserFields, defaultTop)))}
}

// UsersDeltaMinimalFrom is UsersDeltaMinimal whose first page is first,
// the $batch answer to UsersDeltaMinimalRequest(…, link).
func (c *Client) UsersDeltaMinimalFrom(ctx context.Context, link string, first BatchResponse, fn func(DeltaPage) error) (string, error) {
	return deltaFrom(ctx, c, link, "return=minimal", first, func(v []DeltaUser) error { return fn(DeltaPage{Users: v}) })
}

// GroupsDeltaFrom is GroupsDelta whose first page is first, the $batch
// answer to GroupsDeltaRequest(…, link).
func (c *Client) GroupsDeltaFrom(ctx context.Context, link string, first BatchResponse, fn func(DeltaPage) error) (string, error) {
	return deltaFrom(ctx, c, link, "", first, func(v []DeltaGroup) error { return fn(DeltaPage{Groups: v}) })
}

// ListUsersFrom is ListUsers whose first page is first, the $batch answer
// to ListUsersRequest(…, q).
func (c *Client) ListUsersFrom(ctx context.Context, q Query, first BatchResponse, fn func([]User) error) error {
	var p page[User]
	if err := decodeItem(first, &p); err != nil {
		return err
	}
	if len(p.Value) > 0 {
		if err := fn(p.Value); err != nil {
			return err
		}
	}
	if p.NextLink == "" {
		return nil
	}
	return list(ctx, c, p.NextLink, q, fn)
}

func decodeItem(r BatchResponse, out any) error {
	if err := r.Err(); err != nil {
		return err
	}
	if err := jsonv2.Unmarshal(r.Body, out); err != nil {
		return fmt.Errorf("graph: %s %s: decoding $batch item: %w", r.method, opPath(r.url), err)
	}
	return nil
}

func deltaFrom[T any](ctx context.Context, c *Client, link, prefer string, first BatchResponse, fn func([]T) error) (string, error) {
	var p deltaPage[T]
	if err := decodeItem(first, &p); err != nil {
		return "", err
	}
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
	}
	return delta(ctx, c, p.NextLink, prefer, fn)
}
