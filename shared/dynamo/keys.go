package dynamo

import "github.com/ringfence/ringfence/shared/ringfence"

// The table is single-table: every item has a partition key pk and a sort key sk, and the
// prefixes below say what it is. The README's "Table design" section shows the whole layout.
//
//	CAMPAIGN#<id>          CAMPAIGN              the campaign and its counters
//	CAMPAIGN#<id>          CONTACT#<contact id>  one contact of the campaign
//	CALL#<id>              CALL                  one call
//	PROVIDERCALL#<p>#<id>  PROVIDERCALL          maps a provider's call id to ringfence's call id
//
// Index gsi1 lists things that belong together (a campaign's calls, an account's campaigns);
// index gsi2 is sparse and holds only calls that are not terminal yet, for the stale-call sweep.
const (
	skCampaign     = "CAMPAIGN"
	skCall         = "CALL"
	skProviderCall = "PROVIDERCALL"
)

func campaignPK(id string) string { return "CAMPAIGN#" + id }

func contactSK(id string) string { return "CONTACT#" + id }

func callPK(id string) string { return "CALL#" + id }

func providerCallPK(p ringfence.Provider, providerCallID string) string {
	return "PROVIDERCALL#" + string(p) + "#" + providerCallID
}

// campaignCallsGSI1PK groups a campaign's calls in gsi1.
func campaignCallsGSI1PK(campaignID string) string { return "CAMPAIGN#" + campaignID + "#CALLS" }

// accountCampaignsGSI1PK groups an account's campaigns in gsi1.
func accountCampaignsGSI1PK(accountID string) string { return "ACCOUNT#" + accountID + "#CAMPAIGNS" }
