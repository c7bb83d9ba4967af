package vapi_test

import (
	"testing"

	"github.com/ringfence/ringfence/infra/testio"
	"github.com/ringfence/ringfence/shared/ringfence"
	"github.com/ringfence/ringfence/shared/vapi"
)

// An end-of-call report whose data is only in artifact.structuredOutputs (Vapi's structured
// outputs, August 2025) keeps that as the call's extracted data, as Vapi sends it.
func TestStructuredOutputsAreExtractedData(t *testing.T) {
	m, err := vapi.ParseMessage(testio.MustReadFixture(t, "end-of-call-report-structured-outputs.json"))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := m.Event()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"5f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b":{"name":"Customer Info","result":{"callbackDay":"friday","firstName":"Ada","interested":true}}}`
	if ev.ExtractedData != want || ev.Status != ringfence.StatusCompleted || ev.Cost.String() != "0.1234" {
		t.Fatalf("event=%+v, want completed at 0.1234 with extracted data %s", ev, want)
	}
	// analysis.structuredData, when there is one, is what the assistant's analysis plan asked for.
	m, err = vapi.ParseMessage(testio.MustReadFixture(t, "end-of-call-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ev, err := m.Event(); err != nil || ev.ExtractedData != `{"mood":"good"}` {
		t.Fatalf("event=%+v err=%v, want the structured data", ev, err)
	}
}

// call is optional on an end-of-call report: a chat's report has none. It is read, and says it
// is not about a call; a report with a call object but no id is still refused.
func TestReportWithoutACallIsNotAboutACall(t *testing.T) {
	m, err := vapi.ParseMessage(testio.MustReadFixture(t, "end-of-call-report-chat.json"))
	if err != nil {
		t.Fatal(err)
	}
	if m.IsAboutCall() {
		t.Fatal("a chat's report read as a call's")
	}
	if _, err := m.Event(); ringfence.ErrorCode(err) != ringfence.EINVALID {
		t.Fatalf("Event() err=%v, want invalid: a chat's report is no call event", err)
	}
	if _, err := vapi.ParseMessage([]byte(`{"message":{"type":"end-of-call-report","call":{"id":""}}}`)); ringfence.ErrorCode(err) != ringfence.EINVALID {
		t.Fatalf("a call without an id: err=%v, want invalid", err)
	}
}
