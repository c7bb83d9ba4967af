package httpapi

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// settingsJSON is the body of PUT /settings and the answer of both settings routes.
type settingsJSON struct {
	ContactFrequency *frequencyJSON `json:"contact_frequency"`
}

// frequencyJSON is a contact frequency cap: at most max_calls calls to one number per rolling
// period ("24h", "7d").
type frequencyJSON struct {
	MaxCalls int    `json:"max_calls"`
	Per      string `json:"per"`
}

// validate checks the settings before anything is written.
func (in *settingsJSON) validate() error {
	_, err := in.toDomain()
	return err
}

func (in *settingsJSON) toDomain() (ringfence.Settings, error) {
	if in.ContactFrequency == nil {
		return ringfence.Settings{}, nil
	}
	per, err := ringfence.ParsePeriod(in.ContactFrequency.Per)
	if err != nil {
		return ringfence.Settings{}, err
	}
	f := ringfence.ContactFrequency{MaxCalls: in.ContactFrequency.MaxCalls, Per: per}
	if err := f.Validate(); err != nil {
		return ringfence.Settings{}, err
	}
	return ringfence.Settings{ContactFrequency: &f}, nil
}

func toSettingsJSON(st ringfence.Settings) settingsJSON {
	if f := st.ContactFrequency; f != nil {
		return settingsJSON{ContactFrequency: &frequencyJSON{MaxCalls: f.MaxCalls, Per: ringfence.FormatPeriod(f.Per)}}
	}
	return settingsJSON{}
}

// putSettings sets the account's settings: {"contact_frequency": {"max_calls", "per"}}, or
// {"contact_frequency": null} for no cap. The next dial claim reads them.
func (s *Server) putSettings(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	var in settingsJSON
	account, err := s.readJSON(ctx, req, &in)
	if err != nil {
		return 0, nil, err
	}
	st, err := in.toDomain()
	if err != nil {
		return 0, nil, err
	}
	saved, err := s.store.PutSettings(ctx, account, st)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toSettingsJSON(saved), nil
}

func (s *Server) getSettings(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	account, err := s.authenticate(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	st, err := s.store.Settings(ctx, account)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toSettingsJSON(st), nil
}
