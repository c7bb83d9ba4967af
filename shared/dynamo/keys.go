package dynamo

import "github.com/ringfence/ringfence/shared/ringfence"

// The table is single-table: every item has a partition key pk and a sort key sk, and the
// prefixes below say what it is. The README's "Table design" section shows the whole layout.
//
//	CAMPAIGN#<id>          CAMPAIGN              the campaign and its counters
//	CAMPAIGN#<id>          CONTACT#<contact id>  one contact of the campaign
//	CALL#<id>              CALL                  one call
//	PROVIDERCALL#<p>#<id>  PROVIDERCALL          maps a provider's call id to ringfence's call id
//	ACCOUNT#<id>           ACCOUNT               an account and its limits
//	ACCOUNT#<id>           SLOTS#<kind>          the account's count of held slots of one kind
//	ACCOUNT#<id>           SLOT#<kind>#<call>    one held slot
//	APIKEY#<sha256>        APIKEY                an API key's hash, naming its account
//	QUEUE#<account>#<kind> <enqueued>#<call>     a call waiting for a slot
//	PARKED#<p>#<id>        <received>#<n>        a webhook that arrived before its call was known
//	NUMBER#<e164>          NUMBER                whose number it is: the context of inbound calls
//	CUSTOMER#<id>          CUSTOMER              a customer
//	PHONE#<account>#<e164> CUSTOMER              finds an account's customer by phone number
//	ACCOUNT#<id>           ENDPOINT#<id>         an endpoint receiving the account's events
//	EVENT#<id>             EVENT                 an event in the outbox (see outbox.go)
//	EVENT#<id>             DELIVERY#<endpoint>   the event's delivery to one endpoint
//	ENDPOINT#<id>          ATTEMPT#<at>#<event>  one delivery attempt, for GET /endpoints/{id}/deliveries
//
// Index gsi1 lists things that belong together (a campaign's calls, an account's campaigns).
// Index gsi2 is sparse: it holds only calls that are not terminal yet (ACTIVE#<shard>) and queue
// entries (QUEUE#<shard>), events and deliveries due (OUTBOX#<shard>), so the background jobs find their work by Query.
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

const (
	skAccount = "ACCOUNT"
	skAPIKey  = "APIKEY"
)

func accountPK(id string) string { return "ACCOUNT#" + id }

func slotCounterSK(kind ringfence.SlotKind) string { return "SLOTS#" + string(kind) }

func slotSK(kind ringfence.SlotKind, callID string) string {
	return "SLOT#" + string(kind) + "#" + callID
}

func apiKeyPK(hash string) string { return "APIKEY#" + hash }

func queuePK(accountID string, kind ringfence.SlotKind) string {
	return "QUEUE#" + accountID + "#" + string(kind)
}

func parkedPK(p ringfence.Provider, providerCallID string) string {
	return "PARKED#" + string(p) + "#" + providerCallID
}

const (
	skNumber   = "NUMBER"
	skCustomer = "CUSTOMER"
)

func numberPK(e164 string) string { return "NUMBER#" + e164 }

func customerPK(id string) string { return "CUSTOMER#" + id }

func phonePK(accountID, e164 string) string { return "PHONE#" + accountID + "#" + e164 }

func endpointSK(id string) string { return "ENDPOINT#" + id }

func eventPK(id string) string { return "EVENT#" + id }

const skEvent = "EVENT"

func deliverySK(endpointID string) string { return "DELIVERY#" + endpointID }

func endpointPK(id string) string { return "ENDPOINT#" + id }
