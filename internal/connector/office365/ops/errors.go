package ops

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tenantlink/tenantlink"
	"github.com/tenantlink/tenantlink/internal/connector"
	"github.com/tenantlink/tenantlink/internal/graph"
)

// upstream turns a Graph failure while doing what ("add users to the
// group Sales") into an error a person can act on. A 401 stays a wrapped
// graph error so the connector can refresh the token or mark the data
// source for re-authorization; cancellation stays what it is.
func upstream(what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("ops: %s: %w", what, err)
	}
	if errors.Is(err, connector.ErrReauthorize) {
		// Microsoft refused the stored grant while the Graph client was
		// sending (a revoked or expired refresh token): it reaches here as
		// a transport error, but waiting will not help, re-authorizing will.
		reason := "Microsoft refused the data source's authorization. Click Re-Authorize."
		var te *tenantlink.Error
		if errors.As(err, &te) && strings.Contains(te.Message, "Re-Authorize") {
			reason = te.Message
		}
		return &tenantlink.Error{Code: tenantlink.EUPSTREAM, Message: fmt.Sprintf("Could not %s: %s", what, reason), Err: err}
	}
	if errors.Is(err, graph.ErrUnauthorized) {
		return fmt.Errorf("ops: %s: Microsoft 365 refused the data source's token: %w", what, err)
	}
	var ge *graph.Error
	msg := ""
	if errors.As(err, &ge) {
		msg = strings.TrimSpace(ge.Message)
	}
	e := &tenantlink.Error{Err: err}
	switch {
	case errors.Is(err, graph.ErrForbidden):
		e.Code = tenantlink.EFORBIDDEN
		perm := ""
		if ge != nil && ge.Permission != "" {
			perm = " It needs the " + ge.Permission + " permission:"
		}
		e.Message = fmt.Sprintf("Could not %s: Microsoft 365 denied access (%s).%s check the data source's permissions and re-authorize it with an administrator account.",
			what, orDefault(msg, "insufficient privileges"), perm)
	case errors.Is(err, graph.ErrNotFound):
		e.Code = tenantlink.ENOTFOUND
		e.Message = fmt.Sprintf("Could not %s: Microsoft 365 says it does not exist (%s).", what, orDefault(msg, "not found"))
	case errors.Is(err, graph.ErrUnavailable):
		// A 503 or 504 that outlasted the retries is an outage on
		// Microsoft's side, not this tenant's request rate.
		e.Code = tenantlink.EUNAVAILABLE
		status := 503
		if ge != nil && ge.Status != 0 {
			status = ge.Status
		}
		e.Message = fmt.Sprintf("Could not %s: Microsoft 365 is unavailable right now (HTTP %d from Microsoft Graph) — try again in a few minutes.", what, status)
	case errors.Is(err, graph.ErrThrottled):
		e.Code = tenantlink.ETOOMANY
		e.Message = fmt.Sprintf("Could not %s: Microsoft 365 is throttling requests from this tenant and kept refusing after several retries; try again in a few minutes.", what)
	case errors.Is(err, graph.ErrBadRequest), errors.Is(err, graph.ErrAlreadyExists), errors.Is(err, graph.ErrDeltaExpired):
		e.Code = tenantlink.EINVALID
		e.Message = fmt.Sprintf("Could not %s: Microsoft 365 refused the request: %s", what, orDefault(msg, "bad request"))
	case errors.Is(err, graph.ErrServer):
		e.Code = tenantlink.EUPSTREAM
		e.Message = fmt.Sprintf("Could not %s: Microsoft 365 failed (%s); try again later.", what, orDefault(msg, "server error"))
	default:
		e.Code = tenantlink.EUPSTREAM
		e.Message = fmt.Sprintf("Could not %s: Microsoft 365 could not be reached; try again later.", what)
	}
	return e
}

// wholeOperation reports whether a per-item Graph error is really about
// the grant (401, 403) rather than the item, so the operation as a whole
// fails with one message instead of one per user.
func wholeOperation(err error) bool {
	return errors.Is(err, graph.ErrUnauthorized) || errors.Is(err, graph.ErrForbidden)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// itemFailure is an item-level failure: it becomes the item's error
// output and counts towards the summary error.
type itemFailure struct {
	ref string
	err *tenantlink.Error
}

// asAppError gives err as a *tenantlink.Error for an item's error output.
func asAppError(err error) *tenantlink.Error {
	var e *tenantlink.Error
	if errors.As(err, &e) {
		return e
	}
	return &tenantlink.Error{Code: tenantlink.EINTERNAL, Message: err.Error(), Err: err}
}

// summarise builds the error returned next to the items when some failed:
// one failure gives its own message, several are counted and listed (the
// first few) so the message stays readable.
func summarise(op string, total int, fails []itemFailure) error {
	if len(fails) == 0 {
		return nil
	}
	if len(fails) == 1 && total == 1 {
		return fails[0].err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s failed for %d of %d users: ", op, len(fails), total)
	const show = 5
	for i, f := range fails {
		if i == show {
			fmt.Fprintf(&b, " … and %d more (see the items).", len(fails)-show)
			break
		}
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(strings.TrimSpace(f.err.Message))
	}
	errs := make([]error, len(fails))
	for i, f := range fails {
		errs[i] = f.err
	}
	return &tenantlink.Error{Code: fails[0].err.Code, Message: b.String(), Err: errors.Join(errs...)}
}
