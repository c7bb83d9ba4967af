package dynamo

import (
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// maxItemBytes is the most one DynamoDB item may hold: 400 KB, every attribute's name and value
// counted. A write that would make an item larger fails whole, outcome and cost with it.
const maxItemBytes = 400 * 1024

// itemHeadroom is room a call's item keeps beyond what a transcript write counts: the history
// line, timestamps, outcome and cost this write adds, and what the writes racing it add (a
// reschedule day, their own history lines), each at most a few hundred bytes.
const itemHeadroom = 16 * 1024

// transcriptThatFits returns what of u's transcript the call's item can hold: all of it, or its
// beginning, cut so that the item, with everything else it holds and what u writes besides,
// stays under DynamoDB's 400 KB. The transcript is what gives way: the call's outcome and cost
// must always be written. "" means nothing is to be written.
func (s *Store) transcriptThatFits(c ringfence.Call, u ringfence.CallUpdate) string {
	if u.Transcript == "" {
		return ""
	}
	rest := s.callItemBytes(c) + len(u.ExtractedData) + len(u.RecordingURL) + len(u.EndReason) + itemHeadroom
	return ringfence.CutText(u.Transcript, maxItemBytes-rest)
}

// callItemBytes is the size of call c's item as DynamoDB counts it, without its transcript.
func (s *Store) callItemBytes(c ringfence.Call) int {
	it := s.newCallItem(c, c.UpdatedAt.Format("2006-01-02T15:04:05.000000000Z07:00"))
	it.Outcome, it.EndReason, it.ReportAt = string(c.Outcome), c.EndReason, c.ReportAt
	it.Cost, it.Duration = numberPtr(c.Cost), numberPtr(c.Duration)
	it.RecordingURL, it.ExtractedData, it.ExtractedAt = c.RecordingURL, c.ExtractedData, c.ExtractedAt
	it.RescheduleDay, it.DialError, it.RetriedAs, it.History = c.RescheduleDay, c.DialError, c.RetriedAs, c.History
	it.TranscriptLength, it.TranscriptTruncated, it.RescheduleUnparsed = c.FullTranscriptLength(), c.TranscriptCut(), c.RescheduleUnparsed
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return maxItemBytes // Unknowable: keep no transcript rather than risk the outcome.
	}
	return attributesBytes(av)
}

// attributesBytes sizes a map of attributes as DynamoDB does: each name's and each value's
// UTF-8 bytes; a number counts here as its digits, more than DynamoDB charges.
func attributesBytes(av map[string]types.AttributeValue) int {
	n := 0
	for name, v := range av {
		n += len(name) + attributeBytes(v)
	}
	return n
}

// attributeBytes sizes one attribute value; a list or map costs 3 bytes plus 1 per element.
func attributeBytes(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return len(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + attributeBytes(e)
		}
		return n
	case *types.AttributeValueMemberM:
		return 3 + len(v.Value) + attributesBytes(v.Value)
	}
	return 1 // BOOL, NULL.
}
