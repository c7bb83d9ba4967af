package ringfence_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ringfence/ringfence/shared/ringfence"
)

func dec(s string) *ringfence.Decimal {
	d := ringfence.MustParseDecimal(s)
	return &d
}

func TestPlanCallUpdate(t *testing.T) {
	ended := ringfence.Call{Status: ringfence.StatusCompleted, Outcome: ringfence.StatusCompleted, Cost: dec("0.10"), ReportAt: "v2", Transcript: "hello there", RecordingURL: "https://r/1"}
	swept := ringfence.Call{Status: ringfence.StatusFailed, Outcome: ringfence.StatusFailed, EndReason: ringfence.EndReasonStale, EndedStale: true}
	tests := []struct {
		name   string
		call   ringfence.Call
		event  ringfence.CallEvent
		result ringfence.ApplyResult
		check  func(t *testing.T, u ringfence.CallUpdate)
	}{
		{"forward status", ringfence.Call{Status: ringfence.StatusInitiated}, ringfence.CallEvent{Status: ringfence.StatusRinging}, ringfence.ResultAdvanced, nil},
		{"late ringing after completed", ended, ringfence.CallEvent{Status: ringfence.StatusRinging}, ringfence.ResultDuplicate, nil},
		{"second terminal status is ignored", ended, ringfence.CallEvent{Status: ringfence.StatusFailed}, ringfence.ResultDuplicate, nil},
		{"unknown status moves nothing", ringfence.Call{Status: ringfence.StatusRinging}, ringfence.CallEvent{Status: ""}, ringfence.ResultDuplicate, nil},
		{"first terminal counts its cost", ringfence.Call{Status: ringfence.StatusInProgress}, ringfence.CallEvent{Status: ringfence.StatusCompleted, Cost: dec("0.25"), Version: "v1"}, ringfence.ResultFirstTerminal,
			func(t *testing.T, u ringfence.CallUpdate) {
				if got, want := u.CostDelta.String(), "0.25"; got != want {
					t.Fatalf("CostDelta=%s, want %s", got, want)
				}
			}},
		{"newer report moves cost by the difference", ended, ringfence.CallEvent{Status: ringfence.StatusCompleted, Cost: dec("0.13"), Version: "v3"}, ringfence.ResultMerged,
			func(t *testing.T, u ringfence.CallUpdate) {
				if got, want := u.CostDelta.String(), "0.03"; got != want {
					t.Fatalf("CostDelta=%s, want %s", got, want)
				}
			}},
		{"sweep ends a call still as it saw it", ringfence.Call{Status: ringfence.StatusRinging, LastActivity: "t1"}, ringfence.CallEvent{Status: ringfence.StatusFailed, Sweep: true, SeenActivity: "t1"}, ringfence.ResultFirstTerminal,
			func(t *testing.T, u ringfence.CallUpdate) {
				if !u.Stale || u.Activity != "t1" {
					t.Fatalf("Stale=%v Activity=%q, want a stale end conditioned on t1", u.Stale, u.Activity)
				}
			}},
		{"sweep stands down once the call moved", ringfence.Call{Status: ringfence.StatusInProgress, LastActivity: "t2"}, ringfence.CallEvent{Status: ringfence.StatusFailed, Sweep: true, SeenActivity: "t1"}, ringfence.ResultDuplicate, nil},
		{"provider's end after the sweep's corrects it", swept, ringfence.CallEvent{Status: ringfence.StatusCompleted}, ringfence.ResultCorrected, nil},
		{"late ringing after the sweep's end is no correction", swept, ringfence.CallEvent{Status: ringfence.StatusRinging}, ringfence.ResultDuplicate, nil},
		{"sweep without what it saw decides nothing", ringfence.Call{Status: ringfence.StatusRinging, LastActivity: "t1"}, ringfence.CallEvent{Status: ringfence.StatusFailed, Sweep: true}, ringfence.ResultDuplicate, nil},
		{"older report is ignored", ended, ringfence.CallEvent{Status: ringfence.StatusCompleted, Cost: dec("0.5"), Version: "v1"}, ringfence.ResultDuplicate, nil},
		{"the same report again is a duplicate", ended, ringfence.CallEvent{Status: ringfence.StatusCompleted, Cost: dec("0.10"), Version: "v2"}, ringfence.ResultDuplicate, nil},
		{"the same extracted data again is a duplicate", ringfence.Call{Status: ringfence.StatusCompleted, ExtractedData: `{"a":1}`, ExtractedAt: "v2"}, ringfence.CallEvent{Status: ringfence.StatusCompleted, ExtractedData: `{"a":1}`, Version: "v2"}, ringfence.ResultDuplicate, nil},
		{"report without version does not replace one", ended, ringfence.CallEvent{Status: ringfence.StatusCompleted, Cost: dec("0.5")}, ringfence.ResultDuplicate, nil},
		{"non-terminal cost is not a report", ringfence.Call{Status: ringfence.StatusInitiated}, ringfence.CallEvent{Status: ringfence.StatusRinging, Cost: dec("9"), Version: "v9"}, ringfence.ResultAdvanced,
			func(t *testing.T, u ringfence.CallUpdate) {
				if u.Report {
					t.Fatal("a ringing event planned a cost report")
				}
			}},
		{"shorter transcript is ignored", ended, ringfence.CallEvent{Status: ringfence.StatusCompleted, Transcript: "hi"}, ringfence.ResultDuplicate, nil},
		{"longer transcript merges", ended, ringfence.CallEvent{Status: ringfence.StatusCompleted, Transcript: "hello there, how are you"}, ringfence.ResultMerged, nil},
		{"recording only where absent", ended, ringfence.CallEvent{Status: ringfence.StatusCompleted, RecordingURL: "https://r/2"}, ringfence.ResultDuplicate, nil},
		{"extracted data where absent", ended, ringfence.CallEvent{Status: ringfence.StatusCompleted, ExtractedData: `{"a":1}`}, ringfence.ResultMerged, nil},
	}
	for _, tt := range tests {
		u := ringfence.PlanCallUpdate(tt.call, tt.event)
		if got := u.Result(); got != tt.result {
			t.Fatalf("%s: result=%s, want %s (%+v)", tt.name, got, tt.result, u)
		}
		if tt.check != nil {
			tt.check(t, u)
		}
	}
}

func TestStatusRanksOnlyMoveForward(t *testing.T) {
	order := []ringfence.CallStatus{ringfence.StatusQueued, ringfence.StatusInitiated, ringfence.StatusRinging, ringfence.StatusInProgress, ringfence.StatusEnded, ringfence.StatusCompleted}
	for i := 1; i < len(order); i++ {
		if order[i-1].Rank() >= order[i].Rank() {
			t.Fatalf("rank(%s)=%d is not below rank(%s)=%d", order[i-1], order[i-1].Rank(), order[i], order[i].Rank())
		}
	}
	for _, o := range ringfence.Outcomes {
		if !o.IsTerminal() {
			t.Fatalf("%s is not terminal", o)
		}
	}
}

// A callback day is read in the languages the providers' agents speak, as a date, or as a
// relative word counted from today; what names no day, or two, is kept as given and flagged.
func TestParseRescheduleDay(t *testing.T) {
	today := time.Date(2026, 12, 6, 22, 30, 0, 0, time.FixedZone("IST", 5*3600+1800)) // A Sunday.
	good := map[string]string{
		"Monday": "monday", " thu ": "thursday", "2026-12-01": "2026-12-01", "SUNDAY": "sunday", "next Friday": "friday",
		"शुक्रवार": "friday", "शुक्रवार को": "friday", "गुरुवार": "thursday", "बृहस्पतिवार": "thursday", "shukravar": "friday", "Somwar ko": "monday",
		"el miércoles": "wednesday", "miercoles": "wednesday", "Sábado": "saturday", "el viernes por la mañana": "friday",
		"am Donnerstag": "thursday", "Freitag morgen": "friday", "Sonnabend": "saturday",
		"le vendredi": "friday", "Mercredi": "wednesday",
		"na segunda-feira": "monday", "terça-feira": "tuesday", "sexta": "friday", "sábado": "saturday",
		"call me on 2026-12-11 please": "2026-12-11",
		"tomorrow":                     "2026-12-07", "day after tomorrow": "2026-12-08", "today": "2026-12-06",
		"mañana": "2026-12-07", "pasado mañana": "2026-12-08", "Morgen": "2026-12-07", "übermorgen": "2026-12-08",
		"demain": "2026-12-07", "après-demain": "2026-12-08", "amanhã": "2026-12-07", "depois de amanhã": "2026-12-08",
		"कल": "2026-12-07", "परसों": "2026-12-08", "kal": "2026-12-07", "Friday, Friday!": "friday",
	}
	for in, want := range good {
		got, err := ringfence.ParseRescheduleDay(in, today)
		if err != nil || got != (ringfence.RescheduleDay{Day: want}) {
			t.Fatalf("ParseRescheduleDay(%q)=%+v, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"someday": "someday", "2026-13-01": "2026-13-01", "Monday or Tuesday": "Monday or Tuesday",
		"  after   Diwali ": "after Diwali", "दिवाली के बाद": "दिवाली के बाद",
	} {
		got, err := ringfence.ParseRescheduleDay(in, today)
		if err != nil || got != (ringfence.RescheduleDay{Day: want, Unparsed: true}) {
			t.Fatalf("ParseRescheduleDay(%q)=%+v, %v; want the words %q kept, unparsed", in, got, err, want)
		}
	}
	for _, in := range []string{"", "   ", "friday\x1b[2J"} {
		if _, err := ringfence.ParseRescheduleDay(in, today); ringfence.ErrorCode(err) != ringfence.EINVALID {
			t.Fatalf("ParseRescheduleDay(%q) err=%v, want invalid", in, err)
		}
	}
}

// A report's transcript too long to keep is cut at a whole character, and says how long it was;
// the merge compares the lengths the providers sent, so a cut transcript gives way only to a
// longer original.
func TestTranscriptKeptCut(t *testing.T) {
	long := strings.Repeat("User: हाँ।\n", ringfence.MaxTranscriptLength/10)
	ev := ringfence.CallEvent{Provider: ringfence.ProviderVapi, ProviderCallID: "c1", Status: ringfence.StatusCompleted, Cost: dec("2.12"), Transcript: long}
	if err := ev.Validate(); err != nil {
		t.Fatalf("Validate: %v, want the report kept", err)
	}
	if len(ev.Transcript) > ringfence.MaxTranscriptLength || !utf8.ValidString(ev.Transcript) || ev.FullTranscriptLength() != len(long) || len(ev.Notes) != 1 {
		t.Fatalf("kept %d bytes (valid UTF-8: %v) of %d, notes %v", len(ev.Transcript), utf8.ValidString(ev.Transcript), ev.FullTranscriptLength(), ev.Notes)
	}
	stored := ringfence.Call{Status: ringfence.StatusCompleted, Transcript: ev.Transcript, TranscriptLength: len(long)}
	for _, tt := range []struct {
		length int
		merges bool
	}{{len(long) - 1, false}, {len(long), false}, {len(long) + 1, true}} {
		later := ringfence.CallEvent{Status: ringfence.StatusCompleted, Transcript: ev.Transcript, TranscriptLength: tt.length}
		if u := ringfence.PlanCallUpdate(stored, later); (u.Transcript != "") != tt.merges || (tt.merges && u.TranscriptLength != tt.length) {
			t.Fatalf("a later transcript of %d bytes against a cut one of %d: update %+v, want merged=%v", tt.length, len(long), u.TranscriptLength, tt.merges)
		}
	}
	big := ringfence.CallEvent{Provider: ringfence.ProviderBolna, Status: ringfence.StatusCompleted, ExtractedData: `{"x":"` + strings.Repeat("x", ringfence.MaxExtractedDataLength) + `"}`}
	if err := big.Validate(); err != nil || big.ExtractedData != "" || len(big.Notes) != 1 {
		t.Fatalf("extracted data over the bound: err=%v kept %d bytes, notes %v; want it dropped and noted", err, len(big.ExtractedData), big.Notes)
	}
}
