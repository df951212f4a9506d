package directory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/store"
)

// Session returns the browser session whose cookie hashes to idHash and
// its user, or nil, nil, nil when there is none at now (unknown, expired,
// its user gone or deactivated): the request is then anonymous. now is
// the caller's, because a session lives by the clock of the browser's
// cookie, not the services' clock.
func (s *Service) Session(ctx context.Context, idHash string, now time.Time) (*store.Session, *tenantlink.User, error) {
	sess, err := s.Store.GetSession(ctx, idHash, now)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load session: %w", err)
	}
	u, err := s.Store.GetUser(ctx, sess.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load session user: %w", err)
	}
	if !u.Active {
		return nil, nil, nil
	}
	return sess, u, nil
}

// CreateSession stores a new browser session (the web layer makes its
// cookie value and CSRF token; only the cookie's hash is stored).
func (s *Service) CreateSession(ctx context.Context, sess *store.Session) error {
	if err := s.Store.CreateSession(ctx, sess); err != nil {
		return fmt.Errorf("start session: %w", err)
	}
	return nil
}

// EndSession deletes the session whose cookie hashes to idHash.
func (s *Service) EndSession(ctx context.Context, idHash string) error {
	if err := s.Store.DeleteSession(ctx, idHash); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// AuditSignIn records that u signed in from client (the audit entry every
// successful sign-in leaves, whether through the API or the sign-in page).
func (s *Service) AuditSignIn(ctx context.Context, u *tenantlink.User, client string) error {
	return Audit(ctx, s.Store, s.Now(), &tenantlink.Principal{User: u}, "session.create", "user:"+u.ID, "ok", client)
}
