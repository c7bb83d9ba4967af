package httpapi

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// MaxContactsBodyBytes bounds the body of POST /campaigns/{id}/contacts: 10,000 contacts with a
// few variables each fit well below it, and it stays under Lambda's 6 MB request payload.
const MaxContactsBodyBytes = 5 << 20

// addContactsRequest is the JSON body of POST /campaigns/{id}/contacts.
type addContactsRequest struct {
	Contacts []map[string]json.RawMessage `json:"contacts"`
	Region   string                       `json:"default_region"`
}

// addContactsResponse says what an upload changed.
type addContactsResponse struct {
	Added         int `json:"added"`      // Contacts new to the campaign.
	Duplicates    int `json:"duplicates"` // Contacts whose phone the campaign held already, left as they were.
	TotalContacts int `json:"total_contacts"`
}

// addContacts adds contacts to a campaign, from JSON or from CSV. Every contact is validated
// before the first is written; a phone the campaign holds already is left as it is, so sending
// the same upload twice adds its contacts once.
func (s *Server) addContacts(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	account, err := s.authenticate(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	b, err := bodyUpTo(req, MaxContactsBodyBytes)
	if err != nil {
		return 0, nil, err
	}
	id := req.PathParameters["id"]
	campaign, err := s.store.GetCampaign(ctx, account, id)
	if err != nil {
		return 0, nil, err
	}
	// National numbers are read in the upload's default_region, else in the campaign's.
	region := req.QueryStringParameters["default_region"]
	var contacts []ringfence.Contact
	var at func(int) string // Names a contact in an error: its CSV line, or contacts[i].
	if isCSV(header(req, "Content-Type")) {
		var lines []int
		contacts, lines, err = parseContactsCSV(b)
		at = func(i int) string { return fmt.Sprintf("CSV line %d", lines[i]) }
	} else {
		var in addContactsRequest
		if err := decodeStrict(b, &in); err != nil {
			return 0, nil, err
		}
		if in.Contacts == nil {
			return 0, nil, ringfence.Errorf(ringfence.EINVALID, "contacts is required")
		}
		contacts, err = parseContacts(in.Contacts)
		if in.Region != "" {
			region = in.Region
		}
	}
	if err != nil {
		return 0, nil, err
	}
	if region, err = ringfence.ValidateRegion("default_region", region); err != nil {
		return 0, nil, err
	}
	if region == "" {
		region = campaign.DefaultRegion
	}
	if err := ringfence.ValidateContacts(contacts, region, at); err != nil {
		return 0, nil, err
	}
	added, err := s.store.AddContacts(ctx, account, id, contacts)
	if err != nil {
		return 0, nil, err
	}
	c, err := s.store.GetCampaign(ctx, account, id)
	if err != nil {
		return 0, nil, err
	}
	s.log.InfoContext(ctx, "contacts added", "account", account, "campaign", id, "added", added, "duplicates", len(contacts)-added)
	return http.StatusOK, addContactsResponse{Added: added, Duplicates: len(contacts) - added, TotalContacts: c.TotalContacts}, nil
}

// isCSV reports whether a Content-Type names CSV.
func isCSV(contentType string) bool {
	media, _, err := mime.ParseMediaType(contentType)
	return err == nil && media == "text/csv"
}

// parseContactsCSV reads contacts from CSV with a header row: "name" and "phone" (required),
// "timezone" (optional), and any other column kept as a variable for the agent. Empty cells of
// other columns are left out, so a contact's variables hold what was written for it.
func parseContactsCSV(b []byte) ([]ringfence.Contact, []int, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff"))))
	r.FieldsPerRecord = 0 // Every row has as many cells as the header.
	head, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, ringfence.Errorf(ringfence.EINVALID, "the CSV is empty: it needs a header row with name and phone")
	}
	if err != nil {
		return nil, nil, ringfence.Errorf(ringfence.EINVALID, "the CSV header is not valid: %s", err.Error())
	}
	columns := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" {
			return nil, nil, ringfence.Errorf(ringfence.EINVALID, "CSV column %d has no name in the header row", i+1)
		}
		if _, dup := columns[h]; dup {
			return nil, nil, ringfence.Errorf(ringfence.EINVALID, "CSV column %q appears twice in the header row", h)
		}
		columns[h] = i
		head[i] = h
	}
	if _, ok := columns["phone"]; !ok {
		return nil, nil, ringfence.Errorf(ringfence.EINVALID, "the CSV header row has no phone column")
	}
	if _, ok := columns["name"]; !ok {
		return nil, nil, ringfence.Errorf(ringfence.EINVALID, "the CSV header row has no name column")
	}
	var contacts []ringfence.Contact
	var lines []int // The line each contact starts on, for errors.
	for row := 2; ; row++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, ringfence.Errorf(ringfence.EINVALID, "CSV row %d is not valid: %s", row, err.Error())
		}
		if len(contacts) == ringfence.MaxContactsPerRequest {
			return nil, nil, ringfence.Errorf(ringfence.EINVALID, "the CSV holds more than %d contacts; send it in parts", ringfence.MaxContactsPerRequest)
		}
		line, _ := r.FieldPos(0)
		ct := ringfence.Contact{}
		for i, cell := range rec {
			cell = strings.TrimSpace(cell)
			switch head[i] {
			case "name":
				ct.Name = cell
			case "phone":
				ct.Phone = cell
			case "timezone":
				ct.Timezone = cell
			default:
				if cell == "" {
					continue
				}
				if ct.Fields == nil {
					ct.Fields = map[string]string{}
				}
				ct.Fields[head[i]] = cell
			}
		}
		if ct.Phone == "" {
			return nil, nil, ringfence.Errorf(ringfence.EINVALID, "CSV line %d has no phone", line)
		}
		contacts, lines = append(contacts, ct), append(lines, line)
	}
	return contacts, lines, nil
}

// bodyUpTo is body with its own size limit, for the one route whose bodies have their own bound.
func bodyUpTo(req events.APIGatewayV2HTTPRequest, limit int) ([]byte, error) {
	return readBody(req, limit)
}

func (s *Server) pauseCampaign(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	return s.controlCampaign(ctx, req, s.calls.PauseCampaign, "paused")
}

func (s *Server) resumeCampaign(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	return s.controlCampaign(ctx, req, s.calls.ResumeCampaign, "resumed")
}

func (s *Server) cancelCampaign(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	return s.controlCampaign(ctx, req, s.calls.CancelCampaign, "cancelled")
}

// controlCampaign runs one of pause, resume and cancel, each idempotent, and answers with the
// campaign as it is after.
func (s *Server) controlCampaign(ctx context.Context, req events.APIGatewayV2HTTPRequest,
	move func(context.Context, string, string) (ringfence.Campaign, error), what string) (int, any, error) {
	account, err := s.authenticate(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	c, err := move(ctx, account, req.PathParameters["id"])
	if err != nil {
		return 0, nil, err
	}
	s.log.InfoContext(ctx, "campaign "+what, "account", account, "campaign", c.ID, "status", c.Status)
	return http.StatusOK, toCampaignResponse(c), nil
}
