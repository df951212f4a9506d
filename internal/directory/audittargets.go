package directory

import (
	"context"
	"strings"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
)

// AuditTarget is what the audit log knows of an entry's target today.
type AuditTarget struct {
	Kind   string // "user", "group", "datasource", "process" or "task"
	ID     string
	Name   string // display name (or email) while it exists
	Exists bool
}

// AuditTargets says which of a page's audit targets ("user:ID",
// "group:ID", "datasource:ID", "process:ID", "task:ID") still exist, and
// their names, in a fixed number of queries whatever the number of
// targets: the users by id in one, the groups, data sources, processes and
// scheduled tasks listed once each (all are few), never one query per row. Other targets are left out of the answer. It
// is the Administrator's, as the pages it serves are.
func (s *Service) AuditTargets(ctx context.Context, p *tenantlink.Principal, targets []string) (map[string]AuditTarget, error) {
	if err := requireAdmin(p, "reading the audit log's targets"); err != nil {
		return nil, err
	}
	out := map[string]AuditTarget{}
	byKind := map[string][]string{}
	for _, t := range targets {
		kind, id, ok := strings.Cut(t, ":")
		if !ok || id == "" {
			continue
		}
		switch kind {
		case "user", "group", "datasource", "process", "task":
			if _, seen := out[t]; !seen {
				out[t] = AuditTarget{Kind: kind, ID: id}
				byKind[kind] = append(byKind[kind], id)
			}
		}
	}
	found := func(kind, id, name string) {
		if t, ok := out[kind+":"+id]; ok {
			t.Name, t.Exists = name, true
			out[kind+":"+id] = t
		}
	}
	if ids := byKind["user"]; len(ids) > 0 {
		users, err := s.Store.ListUsers(ctx, store.UserFilter{IDs: ids})
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			name := u.DisplayName
			if name == "" {
				name = u.Email
			}
			found("user", u.ID, name)
		}
	}
	if len(byKind["group"]) > 0 {
		groups, err := s.Store.ListGroups(ctx)
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			found("group", g.ID, g.Name)
		}
	}
	if len(byKind["datasource"]) > 0 {
		list, err := s.Store.ListDataSources(ctx, "")
		if err != nil {
			return nil, err
		}
		for _, ds := range list {
			found("datasource", ds.ID, ds.Name)
		}
	}
	if len(byKind["process"]) > 0 {
		list, err := s.Store.ListProcesses(ctx)
		if err != nil {
			return nil, err
		}
		for _, pr := range list {
			found("process", pr.ID, pr.Name)
		}
	}
	if len(byKind["task"]) > 0 {
		list, err := s.Store.ListTasks(ctx)
		if err != nil {
			return nil, err
		}
		for _, t := range list {
			found("task", t.ID, t.Name)
		}
	}
	return out, nil
}
