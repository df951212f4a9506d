package m365sim

import "strings"

// EnsureGroup returns the id of the default tenant's group named
// displayName (case-insensitively), creating an empty security group with
// description when there is none — as POST /_sim/groups does, so delta
// queries, change notifications and the state file see it. The demo uses
// it for the groups its processes watch.
func (s *Server) EnsureGroup(displayName, description string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[0]
	for _, g := range t.groups {
		if strings.EqualFold(g.DisplayName, displayName) {
			return g.ID
		}
	}
	g := &group{ID: t.gen.guid(), DisplayName: displayName, Description: description, MailNickname: nicknameFrom(displayName),
		GroupTypes: []string{}, SecurityEnabled: true, Created: s.nowLocked(), memberSet: map[string]struct{}{}}
	t.insertGroup(g, true)
	return g.ID
}
