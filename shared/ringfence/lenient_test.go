package ringfence_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ringfence/ringfence/shared/ringfence"
)

func TestProviderTimeForms(t *testing.T) {
	want := time.Date(2024, 5, 2, 0, 8, 11, 736_000_000, time.UTC)
	for _, in := range []string{
		`1714608491736`, `"1714608491736"`, `1714608491.736`, `"1714608491.736"`, `1.714608491736e12`,
		`"2024-05-02T00:08:11.736Z"`, `"2024-05-02T00:08:11.736+00:00"`, `"2024-05-02T05:38:11.736+05:30"`,
		`"2024-05-02T00:08:11.736"`, `"2024-05-02 00:08:11.736"`, `"2024-05-02T00:08:11.736000"`,
	} {
		var got ringfence.ProviderTime
		if err := json.Unmarshal([]byte(in), &got); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if !got.Equal(want) {
			t.Fatalf("%s read as %s, want %s", in, got.Time, want)
		}
	}
	var seconds ringfence.ProviderTime
	if err := json.Unmarshal([]byte(`1714608491`), &seconds); err != nil || !seconds.Equal(want.Truncate(time.Second)) {
		t.Fatalf("epoch seconds read as %s (%v), want %s", seconds.Time, err, want.Truncate(time.Second))
	}
	for _, absent := range []string{`null`, `""`} {
		var got ringfence.ProviderTime
		if err := json.Unmarshal([]byte(absent), &got); err != nil || !got.IsZero() {
			t.Fatalf("%s read as %s (%v), want the zero time", absent, got.Time, err)
		}
	}
}

func TestProviderTimeRejects(t *testing.T) {
	for _, in := range []string{`"yesterday"`, `-5`, `true`, `{}`, `[]`, `1e30`, `"2024-13-45T00:00:00Z"`} {
		var got ringfence.ProviderTime
		if err := json.Unmarshal([]byte(in), &got); err == nil {
			t.Fatalf("%s read as %s, want an error", in, got.Time)
		}
	}
}

func TestProviderIDForms(t *testing.T) {
	tests := []struct{ in, want string }{
		{`"6c972873-19b2-44b0-a6bf-d4f690a7a9cf"`, "6c972873-19b2-44b0-a6bf-d4f690a7a9cf"},
		{`7432382142914`, "7432382142914"},
		{`" x1 "`, "x1"},
		{`null`, ""},
	}
	for _, tt := range tests {
		var got ringfence.ProviderID
		if err := json.Unmarshal([]byte(tt.in), &got); err != nil || string(got) != tt.want {
			t.Fatalf("%s read as %q (%v), want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{`1.5`, `true`, `{}`, `[]`} {
		var got ringfence.ProviderID
		if err := json.Unmarshal([]byte(in), &got); err == nil {
			t.Fatalf("%s read as %q, want an error", in, got)
		}
	}
}
