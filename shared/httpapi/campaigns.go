package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// createCampaignRequest is the body of POST /campaigns.
type createCampaignRequest struct {
	Name       string                       `json:"name"`
	Provider   string                       `json:"provider"`
	AgentID    string                       `json:"agent_id"`
	FromNumber string                       `json:"from_number"`
	Contacts   []map[string]json.RawMessage `json:"contacts"`
	Retry      *retryJSON                   `json:"retry"`
	Hours      *hoursJSON                   `json:"calling_hours"`
	MaxConc    int                          `json:"max_concurrency"`
	Region     string                       `json:"default_region"`
	StartAt    *time.Time                   `json:"start_at"`
	EndAt      *time.Time                   `json:"end_at"`
}

// hoursJSON is a campaign's calling hours as the API reads and shows them.
type hoursJSON struct {
	Timezone string   `json:"timezone"`
	Days     []string `json:"days"`
	Start    string   `json:"start"`
	End      string   `json:"end"`
	Blackout []string `json:"blackout_dates,omitempty"`
}

func (h *hoursJSON) toDomain() *ringfence.CallingHours {
	if h == nil {
		return nil
	}
	return &ringfence.CallingHours{Timezone: h.Timezone, Days: h.Days, Start: h.Start, End: h.End, BlackoutDates: h.Blackout}
}

func toHoursJSON(h *ringfence.CallingHours) *hoursJSON {
	if h == nil {
		return nil
	}
	return &hoursJSON{Timezone: h.Timezone, Days: h.Days, Start: h.Start, End: h.End, Blackout: h.BlackoutDates}
}

// retryJSON is a campaign's retry policy as the API reads and shows it.
type retryJSON struct {
	Statuses    []string `json:"statuses"`
	MaxAttempts int      `json:"max_attempts"`
	Delays      []string `json:"delays"`
}

func (r *retryJSON) toDomain() *ringfence.RetryPolicy {
	if r == nil {
		return nil
	}
	p := &ringfence.RetryPolicy{MaxAttempts: r.MaxAttempts, Delays: r.Delays}
	for _, st := range r.Statuses {
		p.Statuses = append(p.Statuses, ringfence.CallStatus(st))
	}
	return p
}

func toRetryJSON(p *ringfence.RetryPolicy) *retryJSON {
	if p == nil {
		return nil
	}
	r := &retryJSON{MaxAttempts: p.MaxAttempts, Delays: p.Delays, Statuses: []string{}}
	for _, st := range p.Statuses {
		r.Statuses = append(r.Statuses, string(st))
	}
	return r
}

// campaignResponse is a campaign as the API shows it.
type campaignResponse struct {
	ID             string         `json:"id"`
	Name           string         `json:"name"`
	Provider       string         `json:"provider"`
	AgentID        string         `json:"agent_id"`
	FromNumber     string         `json:"from_number"`
	Status         string         `json:"status"`
	TotalContacts  int            `json:"total_contacts"`
	CallsCompleted int            `json:"calls_completed"`
	TotalCost      string         `json:"total_cost"`
	Outcomes       map[string]int `json:"outcomes"`
	Attempts       int            `json:"attempts"`
	Retry          *retryJSON     `json:"retry,omitempty"`
	Hours          *hoursJSON     `json:"calling_hours,omitempty"`
	MaxConcurrency int            `json:"max_concurrency,omitempty"`
	InFlight       int            `json:"in_flight"`
	DefaultRegion  string         `json:"default_region,omitempty"`
	StartAt        *time.Time     `json:"start_at,omitempty"`
	EndAt          *time.Time     `json:"end_at,omitempty"`
	CreatedAt      time.Time      `json:"created_at"`
}

func toCampaignResponse(c ringfence.Campaign) campaignResponse {
	out := campaignResponse{
		ID: c.ID, Name: c.Name, Provider: string(c.Provider), AgentID: c.AgentID, FromNumber: c.FromNumber,
		Status: string(c.Status), TotalContacts: c.TotalContacts, CallsCompleted: c.CallsCompleted,
		TotalCost: c.TotalCost.String(), Outcomes: map[string]int{}, CreatedAt: c.CreatedAt,
		Attempts: c.Attempts, Retry: toRetryJSON(c.Retry), Hours: toHoursJSON(c.Hours),
		MaxConcurrency: c.MaxConcurrency, InFlight: max(c.InFlight, 0), DefaultRegion: c.DefaultRegion,
	}
	for _, o := range ringfence.CampaignOutcomes {
		out.Outcomes[string(o)] = c.OutcomeCounts[o]
	}
	if !c.StartAt.IsZero() {
		out.StartAt = &c.StartAt
	}
	if !c.EndAt.IsZero() {
		out.EndAt = &c.EndAt
	}
	return out
}

func (s *Server) createCampaign(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	var in createCampaignRequest
	account, err := s.readJSON(ctx, req, &in)
	if err != nil {
		return 0, nil, err
	}
	contacts, err := parseContacts(in.Contacts)
	if err != nil {
		return 0, nil, err
	}
	provider, err := ringfence.ParseProvider(in.Provider)
	if err != nil {
		return 0, nil, err
	}
	c := ringfence.Campaign{
		ID: dynamo.NewID("cmp"), AccountID: account, Name: in.Name, Provider: provider,
		AgentID: in.AgentID, FromNumber: in.FromNumber, Retry: in.Retry.toDomain(), Hours: in.Hours.toDomain(), MaxConcurrency: in.MaxConc,
		DefaultRegion: in.Region,
	}
	if in.StartAt != nil {
		c.StartAt = in.StartAt.UTC()
	}
	if in.EndAt != nil {
		c.EndAt = in.EndAt.UTC()
	}
	if err := c.Validate(contacts); err != nil {
		return 0, nil, err
	}
	if c.MaxConcurrency > 0 {
		limit, err := s.calls.CampaignLimit(ctx, account)
		if err != nil {
			return 0, nil, err
		}
		if c.MaxConcurrency > limit {
			return 0, nil, ringfence.Errorf(ringfence.EINVALID, "max_concurrency %d is above the account's campaign limit of %d", c.MaxConcurrency, limit)
		}
	}
	return s.idempotent(ctx, req, account, func(ctx context.Context, _ events.APIGatewayV2HTTPRequest) (int, any, error) {
		created, err := s.store.CreateCampaign(ctx, c, contacts)
		if err != nil {
			return 0, nil, err
		}
		s.log.InfoContext(ctx, "campaign created", "account", account, "campaign", created.ID, "contacts", created.TotalContacts)
		return http.StatusCreated, toCampaignResponse(created), nil
	})
}

// parseContacts reads the contacts: "name", "phone" and "timezone" are strings; every other field is kept
// as a variable for the agent (strings as they are, anything else as its JSON text).
func parseContacts(raw []map[string]json.RawMessage) ([]ringfence.Contact, error) {
	if raw == nil {
		return nil, nil // None sent: they may be added later.
	}
	contacts := make([]ringfence.Contact, 0, len(raw))
	for i, fields := range raw {
		var ct ringfence.Contact
		for key, value := range fields {
			var s string
			isString := json.Unmarshal(value, &s) == nil
			switch key {
			case "name", "phone", "timezone":
				if !isString {
					return nil, ringfence.Errorf(ringfence.EINVALID, "contacts[%d].%s must be a string", i, key)
				}
				switch key {
				case "name":
					ct.Name = s
				case "phone":
					ct.Phone = s
				default:
					ct.Timezone = s
				}
			default:
				if ct.Fields == nil {
					ct.Fields = map[string]string{}
				}
				if !isString {
					s = string(value)
				}
				ct.Fields[key] = s
			}
		}
		if ct.Phone == "" {
			return nil, ringfence.Errorf(ringfence.EINVALID, "contacts[%d].phone is required", i)
		}
		contacts = append(contacts, ct)
	}
	return contacts, nil
}

func (s *Server) listCampaigns(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	account, err := s.authenticate(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	campaigns, err := s.store.ListCampaigns(ctx, account)
	if err != nil {
		return 0, nil, err
	}
	out := make([]campaignResponse, 0, len(campaigns))
	for _, c := range campaigns {
		out = append(out, toCampaignResponse(c))
	}
	return http.StatusOK, map[string]any{"campaigns": out}, nil
}

// campaignOf reads the campaign the path names, of the authenticated account.
func (s *Server) campaignOf(ctx context.Context, req events.APIGatewayV2HTTPRequest) (ringfence.Campaign, error) {
	account, err := s.authenticate(ctx, req)
	if err != nil {
		return ringfence.Campaign{}, err
	}
	id, err := pathID(req)
	if err != nil {
		return ringfence.Campaign{}, err
	}
	return s.store.GetCampaign(ctx, account, id)
}

func (s *Server) getCampaign(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	c, err := s.campaignOf(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toCampaignResponse(c), nil
}

// callResponse is a call as the API shows it.
type callResponse struct {
	ID             string           `json:"id"`
	CampaignID     string           `json:"campaign_id,omitempty"`
	Provider       string           `json:"provider"`
	ProviderCallID string           `json:"provider_call_id"`
	Status         string           `json:"status"`
	Attempt        int              `json:"attempt,omitempty"`
	Outcome        *string          `json:"outcome"`
	EndReason      string           `json:"end_reason,omitempty"`
	Cost           *string          `json:"cost"`
	Duration       *string          `json:"duration_seconds"`
	RescheduleDay  *string          `json:"reschedule_day"`
	Transcript     string           `json:"transcript,omitempty"`
	RecordingURL   string           `json:"recording_url,omitempty"`
	ExtractedData  json.RawMessage  `json:"extracted_data,omitempty"`
	ToNumber       string           `json:"to_number,omitempty"`
	Contact        *contactResponse `json:"contact,omitempty"`
	// The recipient's zone its calling hours are judged in, where it came from (contact, number,
	// campaign), and every zone when its number spans several.
	Timezone       string   `json:"timezone,omitempty"`
	TimezoneSource string   `json:"timezone_source,omitempty"`
	Timezones      []string `json:"timezones,omitempty"`
	// Held says why a waiting call is held back (contact_frequency), and HeldUntil when it may go.
	Held      string     `json:"held,omitempty"`
	HeldUntil *time.Time `json:"held_until,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	// TranscriptTruncated says the transcript is only the beginning of what the provider sent,
	// TranscriptLength how long that was, in bytes; both only with a transcript.
	TranscriptTruncated bool `json:"transcript_truncated,omitempty"`
	TranscriptLength    int  `json:"transcript_length,omitempty"`
	// RescheduleUnparsed says reschedule_day holds the caller's words, not a day.
	RescheduleUnparsed bool `json:"reschedule_day_unparsed,omitempty"`
}

// contactResponse is a campaign contact as the API shows it.
type contactResponse struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	Phone         string            `json:"phone"`
	Fields        map[string]string `json:"fields,omitempty"`
	Outcome       *string           `json:"outcome"`
	RescheduleDay *string           `json:"reschedule_day"`
}

// callZones are a call's time zone, its source, and its zones when there are several.
func callZones(h *ringfence.CallingHours) (zone, source string, zones []string) {
	if h == nil {
		return "", "", nil
	}
	if len(h.Zones) > 1 {
		zones = h.Zones
	}
	return h.Timezone, string(h.Source), zones
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optionalDecimal(d *ringfence.Decimal) *string {
	if d == nil {
		return nil
	}
	return optional(d.String())
}

func toCallResponse(c ringfence.Call, contact *ringfence.Contact) callResponse {
	out := callResponse{
		ID: c.ID, CampaignID: c.CampaignID, Provider: string(c.Provider), ProviderCallID: c.ProviderCallID,
		Status: string(c.Status), Attempt: c.Attempt, Outcome: optional(string(c.Outcome)), EndReason: c.EndReason,
		Cost: optionalDecimal(c.Cost), Duration: optionalDecimal(c.Duration), RescheduleDay: optional(c.RescheduleDay),
		Transcript: c.Transcript, RecordingURL: c.RecordingURL, ToNumber: c.ToNumber,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
	out.RescheduleUnparsed = c.RescheduleUnparsed
	if c.Transcript != "" {
		out.TranscriptTruncated, out.TranscriptLength = c.TranscriptCut(), c.FullTranscriptLength()
	}
	if c.ExtractedData != "" {
		out.ExtractedData = json.RawMessage(c.ExtractedData)
	}
	out.Timezone, out.TimezoneSource, out.Timezones = callZones(c.Hours)
	if c.Held != "" && c.Status == ringfence.StatusQueued {
		out.Held, out.HeldUntil = c.Held, &c.HeldUntil
	}
	if contact != nil {
		out.Contact = &contactResponse{
			ID: contact.ID, Name: contact.Name, Phone: contact.Phone, Fields: contact.Fields,
			Outcome: optional(string(contact.Outcome)), RescheduleDay: optional(contact.RescheduleDay),
		}
	}
	return out
}

// Paging of GET /campaigns/{id}/calls: a page holds at most maxCallsPage calls, so a response
// stays far below Lambda's 6 MB whatever the campaign's size.
const (
	defaultCallsPage = 100
	maxCallsPage     = 500
)

func (s *Server) listCampaignCalls(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	c, err := s.campaignOf(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	q := req.QueryStringParameters
	limit := defaultCallsPage
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxCallsPage {
			return 0, nil, ringfence.Errorf(ringfence.EINVALID, "limit must be a whole number from 1 to %d", maxCallsPage)
		}
		limit = n
	}
	after := ""
	if v := q["cursor"]; v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(b) > 200 || !strings.HasPrefix(string(b), "call_") {
			return 0, nil, ringfence.Errorf(ringfence.EINVALID, "cursor is not one this API returned")
		}
		after = string(b)
	}
	withTranscript := false
	switch q["include"] {
	case "":
	case "transcript":
		withTranscript = true
	default:
		return 0, nil, ringfence.Errorf(ringfence.EINVALID, "include may only be transcript")
	}
	calls, contacts, err := s.store.CampaignCallsPage(ctx, c.ID, after, limit)
	if err != nil {
		return 0, nil, err
	}
	out := make([]callResponse, 0, len(calls))
	for _, call := range calls {
		if !withTranscript {
			call.Transcript = ""
		}
		var contact *ringfence.Contact
		if ct, ok := contacts[call.ContactID]; ok {
			contact = &ct
		}
		out = append(out, toCallResponse(call, contact))
	}
	var next *string
	if len(calls) == limit {
		cursor := base64.RawURLEncoding.EncodeToString([]byte(calls[len(calls)-1].ID))
		next = &cursor
	}
	return http.StatusOK, map[string]any{"calls": out, "next_cursor": next}, nil
}
