package dynamo

import (
	"crypto/sha256"
	"encoding/hex"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// The table is single-table: every item has a partition key pk and a sort key sk, and the
// prefixes below say what it is. docs/table-design.md shows the whole layout.
//
//	CAMPAIGN#<id>          CAMPAIGN              the campaign and its counters
//	CAMPAIGN#<id>          CONTACT#<contact id>  one contact of the campaign
//	CALL#<id>              CALL                  one call
//	PROVIDERCALL#<p>#<id>  PROVIDERCALL          maps a provider's call id to ringfence's call id
//	ACCOUNT#<id>           ACCOUNT               an account, its limits and its keys' hashes
//	ACCOUNT#<id>           SLOTS#<kind>          the account's count of held slots of one kind
//	ACCOUNT#<id>           SLOT#<kind>#<call>    one held slot
//	APIKEY#<sha256>        APIKEY                an API key's hash, naming its account
//	TOOLTOKEN#<sha256>     TOOLTOKEN             a tool token's hash, naming its account
//	ACCOUNT#<id>           TOOLTOKEN#<id>        one of the account's tool tokens, for listing
//	QUEUE#<account>#<kind> <enqueued>#<call>     a call waiting for a slot
//	PARKED#<p>#<id>        <received>#<n>        a webhook that arrived before its call was known
//	NUMBER#<e164>          NUMBER                whose number it is: the context of inbound calls
//	CUSTOMER#<id>          CUSTOMER              a customer
//	PHONE#<account>#<e164> CUSTOMER              finds an account's customer by phone number
//	ACCOUNT#<id>           ENDPOINT#<id>         an endpoint receiving the account's events
//	EVENT#<id>             EVENT                 an event in the outbox (see outbox.go)
//	EVENT#<id>             DELIVERY#<endpoint>   the event's delivery to one endpoint
//	ENDPOINT#<id>          ATTEMPT#<at>#<event>  one delivery attempt, for GET /endpoints/{id}/deliveries
//	SETTINGS#<account>     SETTINGS              the account's settings (its contact frequency cap)
//	FREQ#<account>#<e164>  FREQ                  a number's recent dials, which the cap is decided on
//
// Index gsi1 lists things that belong together (a campaign's calls, an account's campaigns, all
// accounts).
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

// accountsGSI1PK groups every account in gsi1, sorted by id.
const accountsGSI1PK = "ACCOUNTS"

func slotCounterSK(kind ringfence.SlotKind) string { return "SLOTS#" + string(kind) }

func slotSK(kind ringfence.SlotKind, callID string) string {
	return "SLOT#" + string(kind) + "#" + callID
}

func apiKeyPK(hash string) string { return "APIKEY#" + hash }

const skToolToken = "TOOLTOKEN"

func toolTokenPK(hash string) string { return "TOOLTOKEN#" + hash }

func toolTokenSK(id string) string { return "TOOLTOKEN#" + id }

// healthPK is the key the health check reads; no item is ever written there.
const healthPK = "HEALTH"

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

// numberClaimSK notes, in the number's partition, that an account claimed it.
func numberClaimSK(accountID string) string { return "CLAIM#" + accountID }

func customerPK(id string) string { return "CUSTOMER#" + id }

func phonePK(accountID, e164 string) string { return "PHONE#" + accountID + "#" + e164 }

// The dashboard's records (see sessions.go):
//
//	LOGINLINK#<id>         LOGINLINK             a login link that was used (kept until it expires)
//	SESSION#<id>           SESSION               a live dashboard session; deleting it signs it out
const (
	skLoginLink = "LOGINLINK"
	skSession   = "SESSION"
)

func loginLinkPK(id string) string { return "LOGINLINK#" + id }

func sessionPK(id string) string { return "SESSION#" + id }

// IDEMPOTENCY#<account>#<sha256 of key> IDEMPOTENCY  a client's Idempotency-Key and its response
const skIdempotency = "IDEMPOTENCY"

// idempotencyPK hashes the client's key, so any key fits the partition key.
func idempotencyPK(accountID, key string) string {
	sum := sha256.Sum256([]byte(key))
	return "IDEMPOTENCY#" + accountID + "#" + hex.EncodeToString(sum[:])
}

func endpointSK(id string) string { return "ENDPOINT#" + id }

func eventPK(id string) string { return "EVENT#" + id }

const skEvent = "EVENT"

func deliverySK(endpointID string) string { return "DELIVERY#" + endpointID }

func endpointPK(id string) string { return "ENDPOINT#" + id }

// activeShards spreads the sparse index of non-terminal calls over several partition keys, so
// that a burst of new calls does not make one index partition hot. The sweep queries each shard.
const activeShards = 4

func activeShardKey(callID string) string {
	h := fnv.New32a()
	h.Write([]byte(callID))
	return "ACTIVE#" + strconv.Itoa(int(h.Sum32()%activeShards))
}

func itemKey(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk},
		"sk": &types.AttributeValueMemberS{Value: sk},
	}
}

// shardOf spreads keys over the sparse index's shards.
func shardOf(id string) string { return strings.TrimPrefix(activeShardKey(id), "ACTIVE#") }
