package ringfence

import "strings"

// callerLabels are how the providers' transcripts label the other party's turns: "User:" (Vapi
// and Retell, in either case) and "Customer:".
var callerLabels = []string{"user:", "customer:"}

// CallerSpoke reports whether a transcript holds a turn of the person called (or calling): a
// line labelled as theirs with something said after the label. Some endings (a silence timeout,
// no audio from the customer, a hook run while the phone rang) are a finished conversation when
// the caller spoke and nobody reached when they did not; the transcript tells which.
func CallerSpoke(transcript string) bool {
	for line := range strings.Lines(transcript) {
		line = strings.ToLower(strings.TrimSpace(line))
		for _, label := range callerLabels {
			if rest, ok := strings.CutPrefix(line, label); ok && strings.TrimSpace(rest) != "" {
				return true
			}
		}
	}
	return false
}
