package tasks

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tenantlink/tenantlink"
)

func mustLoc(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func TestScheduleNext(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	dublin := mustLoc(t, "Europe/Dublin")
	at := func(loc *time.Location, s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name  string
		s     Schedule
		loc   *time.Location
		after string
		want  string // in loc, "" = nothing planned
	}{
		{"every 15 minutes", Schedule{Kind: EveryMinutes, Every: 15}, time.UTC, "2026-03-02 10:07", "2026-03-02 10:15"},
		{"every 15 minutes on a slot", Schedule{Kind: EveryMinutes, Every: 15}, time.UTC, "2026-03-02 10:15", "2026-03-02 10:30"},
		{"every 7 minutes realigns at midnight", Schedule{Kind: EveryMinutes, Every: 7}, time.UTC, "2026-03-02 23:58", "2026-03-03 00:00"},
		{"every minute", Schedule{Kind: EveryMinutes, Every: 1}, time.UTC, "2026-03-02 10:07", "2026-03-02 10:08"},
		{"every 1440 minutes", Schedule{Kind: EveryMinutes, Every: 1440}, time.UTC, "2026-03-02 00:00", "2026-03-03 00:00"},
		{"every 60 minutes across spring forward (NY)", Schedule{Kind: EveryMinutes, Every: 60}, ny, "2026-03-08 01:30", "2026-03-08 03:00"},
		{"hourly on the hour", Schedule{Kind: Hourly}, time.UTC, "2026-03-02 10:00", "2026-03-02 11:00"},
		{"hourly at :30", Schedule{Kind: Hourly, Minute: 30}, time.UTC, "2026-03-02 10:07", "2026-03-02 10:30"},
		{"hourly across the year end", Schedule{Kind: Hourly}, time.UTC, "2026-12-31 23:10", "2027-01-01 00:00"},
		{"hourly across spring forward (NY)", Schedule{Kind: Hourly}, ny, "2026-03-08 01:10", "2026-03-08 03:00"},
		{"daily later today", Schedule{Kind: Daily, Time: "09:00"}, time.UTC, "2026-03-02 08:59", "2026-03-02 09:00"},
		{"daily tomorrow", Schedule{Kind: Daily, Time: "09:00"}, time.UTC, "2026-03-02 09:00", "2026-03-03 09:00"},
		{"daily week days skips the weekend", Schedule{Kind: Daily, Time: "09:00", WeekdaysOnly: true}, time.UTC, "2026-03-06 10:00", "2026-03-09 09:00"},
		{"daily keeps wall-clock time over spring forward (Dublin)", Schedule{Kind: Daily, Time: "09:00"}, dublin, "2026-03-28 10:00", "2026-03-29 09:00"},
		{"daily keeps wall-clock time over fall back (NY)", Schedule{Kind: Daily, Time: "09:00"}, ny, "2026-10-31 10:00", "2026-11-01 09:00"},
		{"daily in the skipped hour runs when clocks skip (NY)", Schedule{Kind: Daily, Time: "02:30"}, ny, "2026-03-07 03:00", "2026-03-08 03:30"},
		{"weekly next monday", Schedule{Kind: Weekly, Weekday: "monday", Time: "08:00"}, time.UTC, "2026-03-03 08:00", "2026-03-09 08:00"},
		{"weekly same day later", Schedule{Kind: Weekly, Weekday: "Tuesday", Time: "18:00"}, time.UTC, "2026-03-03 08:00", "2026-03-03 18:00"},
		{"monthly day 31 in April is the 30th", Schedule{Kind: Monthly, Day: 31, Time: "06:00"}, time.UTC, "2026-04-01 00:00", "2026-04-30 06:00"},
		{"monthly day 31 in February", Schedule{Kind: Monthly, Day: 31, Time: "06:00"}, time.UTC, "2026-02-01 00:00", "2026-02-28 06:00"},
		{"monthly day 29 in a leap February", Schedule{Kind: Monthly, Day: 29, Time: "06:00"}, time.UTC, "2028-02-01 00:00", "2028-02-29 06:00"},
		{"monthly past this month's day", Schedule{Kind: Monthly, Day: 15, Time: "06:00"}, time.UTC, "2026-12-15 06:00", "2027-01-15 06:00"},
		{"monthly on the 31st goes to the next 31st-or-last", Schedule{Kind: Monthly, Day: 31, Time: "06:00"}, time.UTC, "2026-01-31 06:00", "2026-02-28 06:00"},
		{"once in the future", Schedule{Kind: Once, At: "2026-05-01T09:00"}, dublin, "2026-03-02 10:00", "2026-05-01 09:00"},
		{"once in the past", Schedule{Kind: Once, At: "2026-05-01T09:00"}, time.UTC, "2026-05-01 09:00", ""},
		{"on demand plans nothing", Schedule{Kind: OnDemand}, time.UTC, "2026-03-02 10:00", ""},
		{"own time zone wins", Schedule{Kind: Daily, Time: "09:00", TimeZone: "America/New_York"}, dublin, "2026-03-02 10:00", "2026-03-02 14:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.s.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			got, ok := tt.s.Next(at(tt.loc, tt.after), tt.loc)
			if tt.want == "" {
				if ok {
					t.Fatalf("Next = %v, want nothing planned", got)
				}
				return
			}
			want := at(tt.loc, tt.want)
			if !ok || !got.Equal(want) {
				t.Errorf("Next(%s) = %v (ok %v), want %v", tt.after, got.In(tt.loc), ok, want)
			}
		})
	}
}

// TestScheduleNextFallBack checks that an hourly schedule runs once per real
// hour through the repeated hour, and that every 60 minutes gives the 25
// runs of a 25-hour day.
func TestScheduleNextFallBack(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	tests := []struct {
		name string
		s    Schedule
		want int
	}{
		{"hourly", Schedule{Kind: Hourly}, 25},
		{"every 60 minutes", Schedule{Kind: EveryMinutes, Every: 60}, 25},
		{"every 30 minutes", Schedule{Kind: EveryMinutes, Every: 30}, 50},
		{"daily", Schedule{Kind: Daily, Time: "01:30"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Date(2026, 11, 1, 0, 0, 0, 0, ny).Add(-time.Second)
			end := time.Date(2026, 11, 2, 0, 0, 0, 0, ny)
			got := 0
			prev := start
			for {
				next, ok := tt.s.Next(prev, ny)
				if !ok {
					t.Fatalf("Next(%v) planned nothing", prev)
				}
				if !next.Before(end) {
					break
				}
				if !next.After(prev) {
					t.Fatalf("Next(%v) = %v, not after it", prev, next)
				}
				got++
				prev = next
			}
			if got != tt.want {
				t.Errorf("runs on 2026-11-01 in New York = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestParseSchedule(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Schedule
		wantErr string
	}{
		{"empty is hourly", ``, DefaultSchedule(), ""},
		{"null is hourly", `null`, DefaultSchedule(), ""},
		{"minutes", `{"kind":"minutes","every":5}`, Schedule{Kind: EveryMinutes, Every: 5}, ""},
		{"daily week days", `{"kind":"daily","time":"07:45","weekdaysOnly":true}`, Schedule{Kind: Daily, Time: "07:45", WeekdaysOnly: true}, ""},
		{"unknown kind", `{"kind":"yearly"}`, Schedule{}, `schedule: kind must be one of minutes, hourly, daily, weekly, monthly, once, onDemand, not "yearly"`},
		{"unknown field", `{"kind":"hourly","evry":5}`, Schedule{}, `schedule: unknown field "evry"`},
		{"zero minutes", `{"kind":"minutes"}`, Schedule{}, `schedule: every must be a number of minutes from 1 to 1440, not 0`},
		{"field of another kind", `{"kind":"hourly","time":"09:00"}`, Schedule{}, `schedule: "time" does not apply to a hourly schedule`},
		{"bad time", `{"kind":"daily","time":"9am"}`, Schedule{}, `schedule: time must be HH:MM on a 24-hour clock, not "9am"`},
		{"hour 24", `{"kind":"daily","time":"24:00"}`, Schedule{}, `schedule: time must be HH:MM on a 24-hour clock, not "24:00"`},
		{"bad weekday", `{"kind":"weekly","weekday":"funday","time":"09:00"}`, Schedule{}, `schedule: weekday must be a day name such as monday, not "funday"`},
		{"day 32", `{"kind":"monthly","day":32,"time":"09:00"}`, Schedule{}, `schedule: day must be a day of the month from 1 to 31, not 32`},
		{"bad zone", `{"kind":"hourly","timeZone":"Mars/Olympus"}`, Schedule{}, `schedule: unknown time zone "Mars/Olympus" (use an IANA name such as Europe/Dublin)`},
		{"bad once", `{"kind":"once","at":"soon"}`, Schedule{}, `schedule: at must be a date and time such as 2026-05-01T09:00 or an RFC 3339 time, not "soon"`},
		{"not an object", `"hourly"`, Schedule{}, `schedule: must be a JSON object, not a string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSchedule(json.RawMessage(tt.in))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || tenantlink.ErrorCode(err) != tenantlink.EINVALID {
					t.Fatalf("ParseSchedule(%s) error = %v (code %q), want %q (invalid)", tt.in, err, tenantlink.ErrorCode(err), tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSchedule(%s): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseSchedule(%s) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestScheduleString(t *testing.T) {
	tests := []struct {
		s    Schedule
		want string
	}{
		{Schedule{Kind: Hourly}, "Every hour"},
		{Schedule{Kind: Hourly, Minute: 5}, "Every hour at :05"},
		{Schedule{Kind: EveryMinutes, Every: 10}, "Every 10 minutes"},
		{Schedule{Kind: Daily, Time: "09:00", WeekdaysOnly: true}, "Week days at 09:00"},
		{Schedule{Kind: Weekly, Weekday: "monday", Time: "09:00", TimeZone: "Europe/Dublin"}, "Weekly on Monday at 09:00 (Europe/Dublin)"},
		{Schedule{Kind: Monthly, Day: 1, Time: "00:00"}, "Monthly on day 1 at 00:00"},
		{Schedule{Kind: OnDemand}, "On demand (webhook)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.s.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}
