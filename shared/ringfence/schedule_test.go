package ringfence_test

import (
	"testing"
	"time"

	"github.com/ringfence/ringfence/shared/ringfence"
)

func TestNextDailyCallAcrossDST(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	// 2026-03-08: clocks in New York go from 02:00 to 03:00. 2026-11-01: from 02:00 back to 01:00.
	tests := []struct {
		name     string
		callTime string
		after    time.Time
		wantUTC  string
		wantDate string
	}{
		{"before DST starts", "09:00", time.Date(2026, 3, 7, 10, 0, 0, 0, ny), "2026-03-08T13:00:00Z", "2026-03-08"},
		{"after DST starts", "09:00", time.Date(2026, 3, 8, 10, 0, 0, 0, ny), "2026-03-09T13:00:00Z", "2026-03-09"},
		{"the day DST ends", "09:00", time.Date(2026, 10, 31, 10, 0, 0, 0, ny), "2026-11-01T14:00:00Z", "2026-11-01"},
		{"later the same day", "18:30", time.Date(2026, 6, 1, 8, 0, 0, 0, ny), "2026-06-01T22:30:00Z", "2026-06-01"},
		{"exactly at the time moves to tomorrow", "08:00", time.Date(2026, 6, 1, 8, 0, 0, 0, ny), "2026-06-02T12:00:00Z", "2026-06-02"},
	}
	for _, tt := range tests {
		at, date, err := ringfence.NextDailyCall(tt.callTime, ny, tt.after)
		if err != nil {
			t.Fatal(err)
		}
		if got := at.Format(time.RFC3339); got != tt.wantUTC || date != tt.wantDate {
			t.Fatalf("%s: NextDailyCall=%s on %s, want %s on %s", tt.name, got, date, tt.wantUTC, tt.wantDate)
		}
	}
}

func TestNextDailyCallInTheSkippedHour(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	at, date, err := ringfence.NextDailyCall("02:30", ny, time.Date(2026, 3, 7, 12, 0, 0, 0, ny))
	if err != nil {
		t.Fatal(err)
	}
	if date != "2026-03-08" || at.In(ny).Day() != 8 {
		t.Fatalf("got %s (%s), want a time on 2026-03-08", at.In(ny), date)
	}
}

func TestScheduledCallIDs(t *testing.T) {
	a := ringfence.ScheduledCall{CustomerID: "cus_1", Type: ringfence.CallDaily, LocalDate: "2026-11-21", Attempt: 1}
	b := a
	b.Attempt = 2
	if a.CallID() == b.CallID() || a.Key() != b.Key() {
		t.Fatalf("ids %s/%s keys %s/%s: attempts must differ in id and share the key", a.CallID(), b.CallID(), a.Key(), b.Key())
	}
}
