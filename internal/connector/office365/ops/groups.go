package ops

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/graph"
)

// Graph's limits on a new group (graph-contracts.md section 4).
const (
	maxDisplayName = 256
	maxNickname    = 64
	// nicknameForbidden are the ASCII characters Graph refuses in a mail
	// nickname, besides space and control characters.
	nicknameForbidden = `@()\[]";:.<>,`
)

// asciiFold spells letters that Unicode decomposition leaves alone the
// way mail systems do.
var asciiFold = map[rune]string{
	'ß': "ss", 'æ': "ae", 'Æ': "AE", 'ø': "o", 'Ø': "O", 'œ': "oe", 'Œ': "OE",
	'ł': "l", 'Ł': "L", 'đ': "d", 'Đ': "D", 'ð': "d", 'Ð': "D", 'þ': "th", 'Þ': "Th", 'ı': "i",
}

func nicknameChar(r rune) bool {
	return r > ' ' && r < 127 && !strings.ContainsRune(nicknameForbidden, r)
}

// deriveNickname makes a mail nickname from a display name: accents
// dropped (Zoë → Zoe), characters Graph forbids removed, at most 64
// characters.
func deriveNickname(name string) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(name) {
		switch {
		case nicknameChar(r):
			b.WriteRune(r)
		case asciiFold[r] != "":
			b.WriteString(asciiFold[r])
		}
		// Everything else — combining accents left by the decomposition,
		// other scripts, forbidden punctuation — is dropped.
	}
	s := b.String()
	if len(s) > maxNickname {
		s = s[:maxNickname]
	}
	if s == "" {
		s = "group"
	}
	return s
}

func validNickname(s string) bool {
	if s == "" || len(s) > maxNickname {
		return false
	}
	for _, r := range s {
		if !nicknameChar(r) {
			return false
		}
	}
	return true
}

// withSuffix keeps a derived nickname unique among Microsoft 365 groups.
func withSuffix(nick string) string {
	var b [2]byte
	_, _ = rand.Read(b[:])
	suffix := "-" + hex.EncodeToString(b[:])
	if len(nick)+len(suffix) > maxNickname {
		nick = nick[:maxNickname-len(suffix)]
	}
	return nick + suffix
}

func nicknameTaken(err error) bool {
	var ge *graph.Error
	return errors.Is(err, graph.ErrAlreadyExists) && errors.As(err, &ge) && strings.Contains(ge.Message, "mailNickname")
}

// pAllowDuplicate is Create Group's way past refuseDuplicate.
var pAllowDuplicate = connector.Param{Name: "allowDuplicate", Label: "Allow a duplicate name", Type: "boolean",
	Description: "Create the group even if another group has the same display name. Operations that name a group are ambiguous afterwards and need its id."}

// refuseDuplicate refuses a display name another group already has:
// Microsoft allows it, but afterwards every operation that names the
// group (Add User to Group, processes) is ambiguous and needs an id.
// Graph's eq compares display names without regard to case, as people do.
func refuseDuplicate(ctx context.Context, env Env, name string) error {
	var found []graph.Group
	err := env.Graph.ListGroups(ctx, graph.Query{Select: groupSelect, Filter: "displayName eq " + quote(name), Max: 5},
		func(p []graph.Group) error {
			found = append(found, p...)
			return nil
		})
	if err != nil {
		return upstream(fmt.Sprintf("check whether a group named %q exists", name), err)
	}
	if len(found) == 0 {
		return nil
	}
	ids := make([]string, len(found))
	for i, g := range found {
		ids[i] = g.ID
	}
	return tenantlink.Errorf(tenantlink.ECONFLICT,
		"A group named %q already exists (id %s): the group was not created, because operations that name the group would no longer know which one is meant. Use the existing group, choose another name, or set allowDuplicate to create a second group with this name.",
		found[0].DisplayName, strings.Join(ids, ", "))
}

func runCreateGroup(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	name := in.get("displayName")
	if utf8.RuneCountInString(name) > maxDisplayName {
		return tenantlink.Errorf(tenantlink.EINVALID, "Input \"displayName\" is longer than Microsoft's limit of %d characters.", maxDisplayName)
	}
	unified := in.get("groupType") == "microsoft365"
	vis := in.get("visibility")
	if vis == "HiddenMembership" && !unified {
		return tenantlink.Errorf(tenantlink.EINVALID, "Visibility HiddenMembership is for Microsoft 365 groups only; use Public or Private, or set groupType to microsoft365.")
	}
	nick, derived := in.get("mailNickname"), false
	if nick == "" {
		nick, derived = deriveNickname(name), true
	} else if !validNickname(nick) {
		return tenantlink.Errorf(tenantlink.EINVALID,
			"Input \"mailNickname\" %q is not valid: Microsoft allows 1–64 ASCII characters without spaces or any of %s.", nick, nicknameForbidden)
	}

	if !in.flag("allowDuplicate", false) {
		if err := refuseDuplicate(ctx, env, name); err != nil {
			return err
		}
	}

	ng := graph.NewGroup{DisplayName: name, Description: in.get("description"), MailNickname: nick,
		SecurityEnabled: !unified, Visibility: vis}
	if unified {
		ng.GroupTypes, ng.MailEnabled = []string{"Unified"}, true
	}
	// Resolve every owner and member before creating anything, so a typo
	// never leaves a half-built group behind.
	owners, members := in.lists["owners"], in.lists["members"]
	if len(owners)+len(members) > 0 {
		all := append(append([]string{}, owners...), members...)
		rs, err := resolveUsers(ctx, env, all, nil, false)
		if err != nil {
			return err
		}
		byRef := map[string]string{}
		var bad []string
		for _, r := range rs {
			if r.Err != nil {
				bad = append(bad, r.Err.Message)
				continue
			}
			byRef[strings.ToLower(r.Ref)] = r.User.ID
		}
		if len(bad) > 0 {
			return tenantlink.Errorf(tenantlink.EINVALID, "The group was not created: %s", strings.Join(bad, " "))
		}
		// resolveUsers merged references to the same user; map each
		// input back through its id.
		idOf := func(ref string) string {
			if id, ok := byRef[strings.ToLower(ref)]; ok {
				return id
			}
			for _, r := range rs {
				if r.User != nil && (strings.EqualFold(r.User.UserPrincipalName, ref) || strings.EqualFold(r.User.Mail, ref) || strings.EqualFold(r.User.ID, ref)) {
					return r.User.ID
				}
			}
			return ""
		}
		for _, o := range owners {
			ng.OwnerIDs = append(ng.OwnerIDs, idOf(o))
		}
		for _, m := range members {
			ng.MemberIDs = append(ng.MemberIDs, idOf(m))
		}
	}

	var (
		g   *graph.Group
		err error
	)
	for attempt := 0; ; attempt++ {
		g, err = env.Graph.CreateGroup(ctx, ng)
		if err == nil || !nicknameTaken(err) || !unified {
			break
		}
		if !derived || attempt == 3 {
			return &tenantlink.Error{Code: tenantlink.ECONFLICT, Err: err, Message: fmt.Sprintf(
				"Another Microsoft 365 group already uses the mail nickname %q; give another mailNickname.", ng.MailNickname)}
		}
		ng.MailNickname = withSuffix(nick)
	}
	if g == nil {
		return upstream(fmt.Sprintf("create the group %q", name), err)
	}
	env.log().InfoContext(ctx, "office 365 group created", "group", g.ID, "type", groupKind(g),
		"owners", len(ng.OwnerIDs), "members", len(ng.MemberIDs))
	if e := emit([]connector.Item{groupRecord(g)}); e != nil {
		return e
	}
	if err != nil {
		return &tenantlink.Error{Code: tenantlink.EUPSTREAM, Err: err, Message: fmt.Sprintf(
			"Group %q was created (id %s), but adding some owners or members failed; add them with Add User to Group. %s",
			name, g.ID, tenantlink.ErrorMessage(upstream("add owners and members", err)))}
	}
	return nil
}

// membership runs Add or Remove User to/from Group: one item per distinct
// user, in input order, each with its own result.
func membership(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error, add bool) error {
	g, err := resolveGroup(ctx, env, in.get("group"))
	if err != nil {
		return err
	}
	rs, err := resolveUsers(ctx, env, in.lists["user"], nil, true)
	if err != nil {
		return err
	}
	var ids []string
	for _, r := range rs {
		if r.User != nil {
			ids = append(ids, r.User.ID)
		}
	}
	verb, opLabel := "remove users from", "Remove User From Group"
	if add {
		verb, opLabel = "add users to", "Add User to Group"
	}
	outcome := map[string]error{}
	if len(ids) > 0 {
		var res []graph.Result
		if add {
			res, err = env.Graph.AddMembers(ctx, g.ID, ids)
		} else {
			res, err = env.Graph.RemoveMembers(ctx, g.ID, ids)
		}
		if err != nil {
			return upstream(fmt.Sprintf("%s the group %q", verb, g.DisplayName), err)
		}
		for _, r := range res {
			// A refusal of the grant or the group is the operation's,
			// not one user's: say it once.
			if r.Err != nil && wholeOperation(r.Err) {
				return upstream(fmt.Sprintf("%s the group %q", verb, g.DisplayName), r.Err)
			}
			outcome[r.ID] = r.Err
		}
	}
	items := make([]connector.Item, 0, len(rs))
	var fails []itemFailure
	done := 0
	for _, r := range rs {
		it := connector.Item{"user": r.Ref, "userId": "", "groupId": g.ID, "result": "", "error": ""}
		var fail *tenantlink.Error
		if r.Err != nil {
			fail = r.Err
		} else {
			it["userId"] = r.User.ID
			err := outcome[r.User.ID]
			switch {
			case err == nil && add:
				it["result"] = ResultAdded
			case err == nil:
				it["result"] = ResultRemoved
			case add && errors.Is(err, graph.ErrAlreadyExists):
				it["result"] = ResultAlreadyMember
			case !add && errors.Is(err, graph.ErrNotFound):
				it["result"] = ResultNotMember
			case add && errors.Is(err, graph.ErrNotFound):
				fail = &tenantlink.Error{Code: tenantlink.ENOTFOUND, Err: err,
					Message: fmt.Sprintf("User %s does not exist in Microsoft 365.", r.Ref)}
			default:
				what := fmt.Sprintf("remove %s from the group %q", r.Ref, g.DisplayName)
				if add {
					what = fmt.Sprintf("add %s to the group %q", r.Ref, g.DisplayName)
				}
				fail = asAppError(upstream(what, err))
			}
		}
		if fail != nil {
			it["result"], it["error"] = ResultError, fail.Message
			fails = append(fails, itemFailure{ref: r.Ref, err: fail})
		} else {
			done++
		}
		items = append(items, it)
	}
	env.log().InfoContext(ctx, "office 365 group membership changed", "group", g.ID, "add", add,
		"users", len(rs), "ok", done, "failed", len(fails))
	if err := emit(items); err != nil {
		return err
	}
	return summarise(opLabel, len(rs), fails)
}

func runAddUserToGroup(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	return membership(ctx, env, in, emit, true)
}

func runRemoveUserFromGroup(ctx context.Context, env Env, in inputs, emit func([]connector.Item) error) error {
	return membership(ctx, env, in, emit, false)
}
