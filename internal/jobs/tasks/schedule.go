package tasks

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tenantlink/tenantlink"
)

// Schedule kinds (one time, every N minutes, hourly,
// daily with a week-days-only option, weekly, monthly, on demand).
const (
	EveryMinutes = "minutes"
	Hourly       = "hourly"
	Daily        = "daily"
	Weekly       = "weekly"
	Monthly      = "monthly"
	Once         = "once"
	OnDemand     = "onDemand"
)

// Schedule says when a task runs. Wall-clock fields (Time, Weekday, Day)
// are read in TimeZone (IANA name), or the scheduler's zone when empty.
//
//	{"kind":"minutes","every":15}
//	{"kind":"hourly","minute":30}
//	{"kind":"daily","time":"09:00","weekdaysOnly":true}
//	{"kind":"weekly","weekday":"monday","time":"09:00"}
//	{"kind":"monthly","day":31,"time":"09:00"}     (short months: their last day)
//	{"kind":"once","at":"2026-05-01T09:00"}
//	{"kind":"onDemand"}                             (webhook or run now only)
type Schedule struct {
	Kind         string `json:"kind"`
	Every        int    `json:"every,omitempty"`
	Minute       int    `json:"minute,omitempty"`
	Time         string `json:"time,omitempty"`
	WeekdaysOnly bool   `json:"weekdaysOnly,omitempty"`
	Weekday      string `json:"weekday,omitempty"`
	Day          int    `json:"day,omitempty"`
	At           string `json:"at,omitempty"`
	TimeZone     string `json:"timeZone,omitempty"`
}

// DefaultSchedule is a new sync's schedule: every hour, on the hour
// (docs/SPEC.md §6).
func DefaultSchedule() Schedule { return Schedule{Kind: Hourly} }

// ParseSchedule decodes and validates a schedule. An empty document is
// the default schedule. Unknown fields are refused so that a typo does not
// silently become "every hour".
func ParseSchedule(raw json.RawMessage) (Schedule, error) {
	if len(strings.TrimSpace(string(raw))) == 0 || string(raw) == "null" {
		return DefaultSchedule(), nil
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	var s Schedule
	if err := dec.Decode(&s); err != nil {
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field == "" {
			// Not an object: say so without naming a Go type.
			return Schedule{}, tenantlink.Errorf(tenantlink.EINVALID, "schedule: must be a JSON object, not a %s", te.Value)
		}
		return Schedule{}, tenantlink.Errorf(tenantlink.EINVALID, "schedule: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if err := s.Validate(); err != nil {
		return Schedule{}, err
	}
	return s, nil
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

func invalidf(format string, args ...any) error {
	return tenantlink.Errorf(tenantlink.EINVALID, "schedule: "+format, args...)
}

// Validate checks that every field the kind needs is present and in range,
// and that no field belongs to another kind.
func (s Schedule) Validate() error {
	if s.TimeZone != "" {
		if _, err := time.LoadLocation(s.TimeZone); err != nil || s.TimeZone == "Local" {
			return invalidf("unknown time zone %q (use an IANA name such as Europe/Dublin)", s.TimeZone)
		}
	}
	allowed := map[string][]string{
		EveryMinutes: {"every"},
		Hourly:       {"minute"},
		Daily:        {"time", "weekdaysOnly"},
		Weekly:       {"weekday", "time"},
		Monthly:      {"day", "time"},
		Once:         {"at"},
		OnDemand:     {},
	}
	fields, ok := allowed[s.Kind]
	if !ok {
		return invalidf("kind must be one of minutes, hourly, daily, weekly, monthly, once, onDemand, not %q", s.Kind)
	}
	set := map[string]bool{"every": s.Every != 0, "minute": s.Minute != 0, "time": s.Time != "",
		"weekdaysOnly": s.WeekdaysOnly, "weekday": s.Weekday != "", "day": s.Day != 0, "at": s.At != ""}
	for name, isSet := range set {
		if isSet && !contains(fields, name) {
			return invalidf("%q does not apply to a %s schedule", name, s.Kind)
		}
	}
	switch s.Kind {
	case EveryMinutes:
		if s.Every < 1 || s.Every > 1440 {
			return invalidf("every must be a number of minutes from 1 to 1440, not %d", s.Every)
		}
	case Hourly:
		if s.Minute < 0 || s.Minute > 59 {
			return invalidf("minute must be from 0 to 59, not %d", s.Minute)
		}
	case Daily, Weekly, Monthly:
		if _, _, err := parseClock(s.Time); err != nil {
			return err
		}
	}
	if s.Kind == Weekly {
		if _, ok := weekdays[strings.ToLower(s.Weekday)]; !ok {
			return invalidf("weekday must be a day name such as monday, not %q", s.Weekday)
		}
	}
	if s.Kind == Monthly && (s.Day < 1 || s.Day > 31) {
		return invalidf("day must be a day of the month from 1 to 31, not %d", s.Day)
	}
	if s.Kind == Once {
		if _, err := s.onceAt(time.UTC); err != nil {
			return err
		}
	}
	return nil
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// parseClock reads "HH:MM" (24-hour).
func parseClock(v string) (h, m int, err error) {
	hs, ms, ok := strings.Cut(v, ":")
	if ok && len(hs) == 2 && len(ms) == 2 {
		h, err1 := strconv.Atoi(hs)
		m, err2 := strconv.Atoi(ms)
		if err1 == nil && err2 == nil && h >= 0 && h < 24 && m >= 0 && m < 60 {
			return h, m, nil
		}
	}
	return 0, 0, invalidf("time must be HH:MM on a 24-hour clock, not %q", v)
}

// onceAt reads At as RFC 3339 (an explicit offset wins) or as a wall-clock
// "YYYY-MM-DDTHH:MM" in loc.
func (s Schedule) onceAt(loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s.At); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04", s.At, loc); err == nil {
		return t, nil
	}
	return time.Time{}, invalidf("at must be a date and time such as 2026-05-01T09:00 or an RFC 3339 time, not %q", s.At)
}

// Location is the zone the schedule's wall-clock fields are read in: its
// own TimeZone, else def.
func (s Schedule) Location(def *time.Location) *time.Location {
	if s.TimeZone != "" {
		if loc, err := time.LoadLocation(s.TimeZone); err == nil {
			return loc
		}
	}
	if def == nil {
		return time.UTC
	}
	return def
}

// Next returns the first run time strictly after after, reading wall-clock
// fields in the schedule's zone (def when it names none). ok is false when
// the schedule plans nothing more: on demand, or a one-time run in the past.
//
// Missed runs are not caught up: a server that was down for a day plans the
// next run after now, not one per missed slot.
//
// Across daylight saving changes, schedules keep their wall-clock time
// (09:00 stays 09:00 local); a time that does not exist on a spring-forward
// day runs at the moment the clocks skip to, and a repeated hour runs once.
// Minute intervals are real elapsed minutes counted from local midnight, so
// "every 15 minutes" stays evenly spaced through the change and realigns
// each day.
func (s Schedule) Next(after time.Time, def *time.Location) (next time.Time, ok bool) {
	loc := s.Location(def)
	local := after.In(loc)
	y, mo, d := local.Date()
	switch s.Kind {
	case EveryMinutes:
		step := time.Duration(s.Every) * time.Minute
		for i := 0; i < 3; i++ { // today, or the first slot of the next day
			midnight := time.Date(y, mo, d+i, 0, 0, 0, 0, loc)
			dayEnd := time.Date(y, mo, d+i+1, 0, 0, 0, 0, loc)
			if !dayEnd.After(after) {
				continue
			}
			var t time.Time
			if !midnight.After(after) {
				k := after.Sub(midnight)/step + 1
				t = midnight.Add(k * step)
			} else {
				t = midnight
			}
			if t.Before(dayEnd) {
				return t, true
			}
		}
	case Hourly:
		t := time.Date(y, mo, d, local.Hour(), s.Minute, 0, 0, loc)
		for !t.After(after) {
			t = t.Add(time.Hour)
		}
		return t, true
	case Daily, Weekly, Monthly:
		h, m, err := parseClock(s.Time)
		if err != nil {
			return time.Time{}, false
		}
		wd := weekdays[strings.ToLower(s.Weekday)]
		// 31 days cover every daily and weekly case; monthly looks up to
		// 13 months ahead.
		if s.Kind == Monthly {
			for i := 0; i < 14; i++ {
				first := time.Date(y, mo+time.Month(i), 1, 0, 0, 0, 0, loc)
				day := min(s.Day, daysIn(first.Year(), first.Month(), loc))
				t := wallClock(first.Year(), first.Month(), day, h, m, loc)
				if t.After(after) {
					return t, true
				}
			}
			return time.Time{}, false
		}
		for i := 0; i < 32; i++ {
			t := wallClock(y, mo, d+i, h, m, loc)
			if !t.After(after) {
				continue
			}
			day := time.Date(y, mo, d+i, 12, 0, 0, 0, loc).Weekday()
			if s.Kind == Weekly && day != wd {
				continue
			}
			if s.Kind == Daily && s.WeekdaysOnly && (day == time.Saturday || day == time.Sunday) {
				continue
			}
			return t, true
		}
	case Once:
		t, err := s.onceAt(loc)
		if err == nil && t.After(after) {
			return t, true
		}
	}
	return time.Time{}, false
}

// wallClock is time.Date for h:m local, except that a time the clocks skip
// (spring forward) becomes the moment they skip to, later rather than an
// hour early as time.Date would pick.
func wallClock(y int, mo time.Month, d, h, m int, loc *time.Location) time.Time {
	t := time.Date(y, mo, d, h, m, 0, 0, loc)
	if lt := t.In(loc); lt.Hour() == h && lt.Minute() == m {
		return t
	}
	_, before := t.Zone()
	_, after := t.Add(6 * time.Hour).Zone()
	if after > before {
		t = t.Add(time.Duration(after-before) * time.Second)
	}
	return t
}

func daysIn(y int, m time.Month, loc *time.Location) int {
	return time.Date(y, m+1, 0, 12, 0, 0, 0, loc).Day()
}

// String describes the schedule for people, as the task list shows it.
func (s Schedule) String() string {
	zone := ""
	if s.TimeZone != "" {
		zone = " (" + s.TimeZone + ")"
	}
	switch s.Kind {
	case EveryMinutes:
		if s.Every == 1 {
			return "Every minute"
		}
		return fmt.Sprintf("Every %d minutes", s.Every)
	case Hourly:
		if s.Minute == 0 {
			return "Every hour"
		}
		return fmt.Sprintf("Every hour at :%02d", s.Minute)
	case Daily:
		if s.WeekdaysOnly {
			return "Week days at " + s.Time + zone
		}
		return "Daily at " + s.Time + zone
	case Weekly:
		w := strings.ToLower(s.Weekday)
		if w != "" {
			w = strings.ToUpper(w[:1]) + w[1:]
		}
		return "Weekly on " + w + " at " + s.Time + zone
	case Monthly:
		return fmt.Sprintf("Monthly on day %d at %s%s", s.Day, s.Time, zone)
	case Once:
		return "Once at " + s.At + zone
	case OnDemand:
		return "On demand (webhook)"
	}
	return s.Kind
}
