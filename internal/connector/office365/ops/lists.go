package ops

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/graph"
)

// pageSize is Graph's largest page for users and groups: a 100,000-user
// tenant costs about 100 round trips.
const pageSize = 999

// maxQueryLen keeps a find within Graph's URL limits.
const maxQueryLen = 256

// callerError carries an error from the caller's emit function through
// the graph client, so it comes back unchanged rather than dressed up as a
// Microsoft failure.
type callerError struct{ err error }

func (e callerError) Error() string { return e.err.Error() }
func (e callerError) Unwrap() error { return e.err }

func unwrapCaller(err error) (error, bool) {
	var ce callerError
	if errors.As(err, &ce) {
		return ce.err, true
	}
	return err, false
}

// pages turns emit into a Graph page callback: each page's objects become
// records, and an error of emit's is marked as the caller's, so finish can
// tell it from Graph's.
func pages[T any](emit func([]connector.Item) error, record func(*T) connector.Item) func([]T) error {
	return func(p []T) error {
		items := make([]connector.Item, len(p))
		for i := range p {
			items[i] = record(&p[i])
		}
		if err := emit(items); err != nil {
			return callerError{err}
		}
		return nil
	}
}

// finish ends a streamed read: the caller's own error as it is, Graph's
// explained as what failed.
func finish(what string, err error) error {
	if err, ok := unwrapCaller(err); ok {
		return err
	}
	return upstream(what, err)
}

func streamUsers(ctx context.Context, env Env, what string, q graph.Query, emit func([]connector.Item) error) error {
	q.Select, q.Top = userSelect, pageSize
	return finish(what, env.Graph.ListUsers(ctx, q, pages(emit, userRecord)))
}

func streamGroups(ctx context.Context, env Env, what string, q graph.Query, emit func([]connector.Item) error) error {
	q.Select, q.Top = groupSelect, pageSize
	return finish(what, env.Graph.ListGroups(ctx, q, pages(emit, groupRecord)))
}

func runUserList(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	return streamUsers(ctx, env, "list users", graph.Query{Max: in.ints["maxRows"]}, emit)
}

func runGroupList(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	return streamGroups(ctx, env, "list groups", graph.Query{Max: in.ints["maxRows"]}, emit)
}

// findQuery turns query, field and match into Graph's terms. startsWith
// and equals are plain $filter clauses every listed property supports;
// contains has no $filter form on directory objects, so it becomes
// $search, which Graph tokenizes only on displayName and description
// (elsewhere it silently means startsWith): on other fields it is refused
// rather than quietly answering a different question.
func findQuery(in inputs, searchable []string) (graph.Query, error) {
	text := in.get("query")
	if utf8.RuneCountInString(text) > maxQueryLen {
		return graph.Query{}, tenantlink.Errorf(tenantlink.EINVALID, "Input \"query\" is longer than %d characters.", maxQueryLen)
	}
	field := orDefault(in.get("field"), "displayName")
	q := graph.Query{Max: in.ints["maxRows"]}
	switch orDefault(in.get("match"), "startsWith") {
	case "startsWith":
		q.Filter = "startswith(" + field + "," + quote(text) + ")"
	case "equals":
		q.Filter = field + " eq " + quote(text)
	case "contains":
		ok := false
		for _, f := range searchable {
			ok = ok || f == field
		}
		if !ok {
			return graph.Query{}, tenantlink.Errorf(tenantlink.EINVALID,
				"Microsoft 365 cannot look inside %s: match \"contains\" works on %s only. Use startsWith or equals for %s.",
				field, joinOr(searchable), field)
		}
		q.Search = searchPhrase(field, text)
	}
	return q, nil
}

func joinOr(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	out := s[0]
	for _, x := range s[1 : len(s)-1] {
		out += ", " + x
	}
	return out + " and " + s[len(s)-1]
}

func runFindUsers(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	q, err := findQuery(in, []string{"displayName"})
	if err != nil {
		return err
	}
	return streamUsers(ctx, env, fmt.Sprintf("find users whose %s %s %q", orDefault(in.get("field"), "displayName"),
		matchVerb(in.get("match")), in.get("query")), q, emit)
}

func runFindGroups(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	q, err := findQuery(in, []string{"displayName", "description"})
	if err != nil {
		return err
	}
	return streamGroups(ctx, env, fmt.Sprintf("find groups whose %s %s %q", orDefault(in.get("field"), "displayName"),
		matchVerb(in.get("match")), in.get("query")), q, emit)
}

func matchVerb(m string) string {
	switch m {
	case "equals":
		return "equals"
	case "contains":
		return "contains"
	}
	return "starts with"
}
