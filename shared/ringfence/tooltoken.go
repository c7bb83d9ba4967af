package ringfence

// ToolToken is one of an account's tool tokens: the secret a provider that cannot sign its
// requests (Bolna) presents on a mid-call tool call. A tool call made with it reaches only that
// account's calls and numbers. The token itself is shown once, when it is issued; only its hash
// is stored.
type ToolToken struct {
	ID        string
	AccountID string
	CreatedAt string
}

// MaxToolTokens bounds an account's tool tokens: enough to rotate one agent at a time, few
// enough that a forgotten token is noticed in the list.
const MaxToolTokens = 5
