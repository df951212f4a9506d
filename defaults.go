package tenantlink

import (
	"log/slog"
	"time"
)

// Now returns clock(), or time.Now() when clock is nil: the services'
// optional clocks (tests set them) share this one default.
func Now(clock func() time.Time) time.Time {
	if clock == nil {
		return time.Now()
	}
	return clock()
}

// LoggerOr returns l, or a logger that discards everything when l is nil.
func LoggerOr(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
