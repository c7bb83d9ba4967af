package dynamo

import (
	"time"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// accountItem is an account with its limits; a limit of -1 means "use the default".
type accountItem struct {
	PK            string `dynamodbav:"pk"`
	SK            string `dynamodbav:"sk"`
	GSI1PK        string `dynamodbav:"gsi1pk,omitempty"`
	GSI1SK        string `dynamodbav:"gsi1sk,omitempty"`
	ID            string `dynamodbav:"id"`
	Name          string `dynamodbav:"name"`
	CreatedAt     string `dynamodbav:"created_at,omitempty"`
	LimitDirect   *int   `dynamodbav:"limit_direct,omitempty"`
	LimitCampaign *int   `dynamodbav:"limit_campaign,omitempty"`
	StaleAfter    int64  `dynamodbav:"stale_after_seconds,omitempty"`
	// KeyHashes lists the account's API keys (their hashes), so that a rotation or a revocation
	// finds them; KeysVersion counts its changes, on which those writes are conditioned.
	KeyHashes   []string `dynamodbav:"key_hashes,stringset,omitempty"`
	KeysVersion int64    `dynamodbav:"keys_version,omitempty"`
}

func (it accountItem) toDomain() ringfence.Account {
	a := ringfence.Account{ID: it.ID, Name: it.Name, Limits: map[ringfence.SlotKind]int{}, StaleAfter: time.Duration(it.StaleAfter) * time.Second}
	if it.LimitDirect != nil {
		a.Limits[ringfence.SlotDirect] = *it.LimitDirect
	}
	if it.LimitCampaign != nil {
		a.Limits[ringfence.SlotCampaign] = *it.LimitCampaign
	}
	return a
}

// apiKeyItem maps the SHA-256 of an API key to its account. The key itself is never stored. A
// key replaced by a rotation keeps working until ValidUntil; DynamoDB's TTL removes it later.
type apiKeyItem struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	AccountID  string `dynamodbav:"account_id"`
	CreatedAt  string `dynamodbav:"created_at,omitempty"`
	ValidUntil string `dynamodbav:"valid_until,omitempty"`
	ExpiresAt  int64  `dynamodbav:"expires_at,omitempty"`
}

// numberItem routes one of an account's phone numbers.
type numberItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Number      string `dynamodbav:"number"`
	AccountID   string `dynamodbav:"account_id"`
	CompanyID   string `dynamodbav:"company_id"`
	CompanyName string `dynamodbav:"company_name,omitempty"`
	BranchID    string `dynamodbav:"branch_id"`
	BranchName  string `dynamodbav:"branch_name,omitempty"`
	AgentID     string `dynamodbav:"agent_id,omitempty"`
	Greeting    string `dynamodbav:"greeting,omitempty"`
	UpdatedAt   string `dynamodbav:"updated_at"`
	// Pending is set on a claim an operator has not confirmed yet. Routes stored before claims
	// needed confirming have no such attribute, and stay confirmed.
	Pending bool `dynamodbav:"pending,omitempty"`
}

func (it numberItem) toDomain() ringfence.NumberRoute {
	return ringfence.NumberRoute{
		Number: it.Number, AccountID: it.AccountID, CompanyID: it.CompanyID, CompanyName: it.CompanyName,
		BranchID: it.BranchID, BranchName: it.BranchName, AgentID: it.AgentID, Greeting: it.Greeting,
		UpdatedAt: parseTime(it.UpdatedAt), Confirmed: !it.Pending,
	}
}
