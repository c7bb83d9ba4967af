package vapi

// AssistantResponse answers an assistant-request: the assistant that takes the inbound call and
// the values of its template variables, or an error that Vapi speaks to the caller before it
// ends the call. Vapi waits 7.5 seconds for it, end to end.
type AssistantResponse struct {
	AssistantID        string              `json:"assistantId,omitempty"`
	AssistantOverrides *AssistantOverrides `json:"assistantOverrides,omitempty"`
	Error              string              `json:"error,omitempty"`
}
