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
	return BatchRequest{ID: id, Method: http.MethodGet, URL: c.relative(c.usersLink(q))}
}

// UsersDeltaMinimalFrom is UsersDeltaMinimal whose first page is first,
// the $batch answer to UsersDeltaMinimalRequest(…, link).
func (c *Client) UsersDeltaMinimalFrom(ctx context.Context, link string, first BatchResponse, fn func(DeltaPage) error) (string, error) {
	return delta(ctx, c, link, "return=minimal", &first, func(v []DeltaUser) error { return fn(DeltaPage{Users: v}) })
}

// GroupsDeltaFrom is GroupsDelta whose first page is first, the $batch
// answer to GroupsDeltaRequest(…, link).
func (c *Client) GroupsDeltaFrom(ctx context.Context, link string, first BatchResponse, fn func(DeltaPage) error) (string, error) {
	return delta(ctx, c, link, "", &first, func(v []DeltaGroup) error { return fn(DeltaPage{Groups: v}) })
}

// ListUsersFrom is ListUsers whose first page is first, the $batch answer
// to ListUsersRequest(…, q).
func (c *Client) ListUsersFrom(ctx context.Context, q Query, first BatchResponse, fn func([]User) error) error {
	return listFrom(ctx, c, c.usersLink(q), q, &first, fn)
}

// readPage reads into out the answer to r, which first is when it is not
// nil (r's answer, read in a $batch).
func (c *Client) readPage(ctx context.Context, r request, first *BatchResponse, out any) error {
	if first != nil {
		return decodeItem(*first, out)
	}
	return c.call(ctx, r, out)
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
