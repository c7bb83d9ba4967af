// Package iam enforces each function's IAM role off AWS. DynamoDB Local ignores IAM, so a test or
// a local stack that talks to it directly would let a function do what its deployed role denies.
// The local stack therefore gives every function the credentials of its own role, as Lambda does,
// and sends its DynamoDB requests through Proxy, which refuses what that role (as the translated
// template defines it) does not allow, with the AccessDeniedException DynamoDB itself returns.
package iam

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/ringfence/ringfence/infra/samtemplate"
)

// Local values for what an ARN holds on AWS.
const (
	Region    = "us-east-1"
	AccountID = "000000000000"
)

// Roles are the functions' roles of one translated template, by the access key that names each.
type Roles struct {
	byKey map[string]*Role
}

// Role is one function's role: the statements of its inline policies.
type Role struct {
	Function   string // The function's logical id, e.g. ApiFunction.
	Name       string // The role's logical id, e.g. ApiFunctionRole.
	statements []statement
	// tables are the logical ids of the template's DynamoDB tables: ${Table.Arn} in a policy is
	// the table the request names, since every table the local stack serves stands for the
	// stack's one table (each test has its own).
	tables map[string]bool
	// secrets are the logical ids of the template's Secrets Manager secrets: a Ref to one is its ARN.
	secrets map[string]bool
}

// statement is one policy statement: IAM's Effect, Action and Resource.
type statement struct {
	allow     bool
	actions   []string
	resources []any // A string ARN (wildcards allowed) or an intrinsic function, resolved per request.
}

// AccessKeyID is the access key whose requests act as a function's role. The local stack gives
// it to the function as AWS_ACCESS_KEY_ID, as Lambda gives a function its role's credentials.
// DynamoDB Local accepts only letters and digits in an access key, so it has no separator.
func AccessKeyID(function string) string { return "localrole" + function }

// Load reads every function's role from a translated template (samtemplate.Translate).
// Statements that this package cannot evaluate (a Condition, NotAction, NotResource) are an
// error rather than ignored: a check that guessed would pass what AWS denies, or the reverse.
// Managed policies (logs, X-Ray) grant no DynamoDB or Secrets Manager action and are not read.
func Load(translated []byte) (Roles, error) {
	var t struct {
		Resources map[string]struct {
			Type       string         `json:"Type"`
			Properties map[string]any `json:"Properties"`
		} `json:"Resources"`
	}
	if err := json.Unmarshal(translated, &t); err != nil {
		return Roles{}, fmt.Errorf("translated template: %w", err)
	}
	tables, secrets := map[string]bool{}, map[string]bool{}
	for id, r := range t.Resources {
		switch r.Type {
		case "AWS::DynamoDB::Table":
			tables[id] = true
		case "AWS::SecretsManager::Secret":
			secrets[id] = true
		}
	}
	roles := Roles{byKey: map[string]*Role{}}
	for id, r := range t.Resources {
		if r.Type != "AWS::Lambda::Function" {
			continue
		}
		att, _ := dig(r.Properties, "Role", "Fn::GetAtt").([]any)
		if len(att) != 2 {
			return Roles{}, fmt.Errorf("function %s: its role %v is not one of the stack's", id, r.Properties["Role"])
		}
		roleID, _ := att[0].(string)
		role := &Role{Function: id, Name: roleID, tables: tables, secrets: secrets}
		for _, p := range asList(t.Resources[roleID].Properties["Policies"]) {
			for _, st := range asList(dig(p, "PolicyDocument", "Statement")) {
				s, err := parseStatement(st)
				if err != nil {
					return Roles{}, fmt.Errorf("role %s: %w", roleID, err)
				}
				role.statements = append(role.statements, s)
			}
		}
		roles.byKey[AccessKeyID(id)] = role
	}
	if len(roles.byKey) == 0 {
		return Roles{}, fmt.Errorf("translated template: no AWS::Lambda::Function")
	}
	return roles, nil
}

func parseStatement(v any) (statement, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return statement{}, fmt.Errorf("statement %v is not an object", v)
	}
	for _, unsupported := range []string{"Condition", "NotAction", "NotResource", "NotPrincipal"} {
		if _, ok := m[unsupported]; ok {
			return statement{}, fmt.Errorf("statement %v has %s, which the local check cannot evaluate", m, unsupported)
		}
	}
	s := statement{allow: m["Effect"] == "Allow", resources: asList(m["Resource"])}
	for _, a := range asList(m["Action"]) {
		name, ok := a.(string)
		if !ok {
			return statement{}, fmt.Errorf("action %v is not a string", a)
		}
		s.actions = append(s.actions, name)
	}
	return s, nil
}

// ForKey returns the role an access key acts as.
func (r Roles) ForKey(accessKeyID string) (*Role, bool) {
	role, ok := r.byKey[accessKeyID]
	return role, ok
}

// Functions lists the functions' logical ids.
func (r Roles) Functions() []string {
	var out []string
	for _, role := range r.byKey {
		out = append(out, role.Function)
	}
	sort.Strings(out)
	return out
}

// Allows says whether the role may perform action on resource, by IAM's rules: an explicit Deny
// wins, otherwise some Allow must match both the action (case-insensitive, with wildcards) and
// the resource (with wildcards). table is the table the request names, for ${Table.Arn}.
func (role *Role) Allows(action, resource, table string) bool {
	allowed := false
	for _, s := range role.statements {
		if !s.matchesAction(action) || !role.matchesResource(s, resource, table) {
			continue
		}
		if !s.allow {
			return false
		}
		allowed = true
	}
	return allowed
}

func (s statement) matchesAction(action string) bool {
	for _, a := range s.actions {
		if wildcardMatch(strings.ToLower(a), strings.ToLower(action)) {
			return true
		}
	}
	return false
}

func (role *Role) matchesResource(s statement, resource, table string) bool {
	for _, r := range s.resources {
		if pattern, ok := role.resolve(r, table); ok && wildcardMatch(pattern, resource) {
			return true
		}
	}
	return false
}

// resolve turns a policy's resource into an ARN pattern: a literal, the ARN of the stack's table
// (Fn::GetAtt Table.Arn, and ${Table.Arn} in a Fn::Sub), or a secret's ARN (its Ref). Anything
// else cannot be resolved and matches nothing.
func (role *Role) resolve(v any, table string) (string, bool) {
	tableARN := TableARN(table)
	switch r := v.(type) {
	case string:
		return r, true
	case map[string]any:
		if att, ok := r["Fn::GetAtt"].([]any); ok && len(att) == 2 && att[1] == "Arn" {
			id, _ := att[0].(string)
			return tableARN, role.tables[id]
		}
		if ref, ok := r["Ref"].(string); ok && role.secrets[ref] {
			return SecretARN(ref), true
		}
		if sub, ok := r["Fn::Sub"].(string); ok {
			return role.substitute(sub, tableARN)
		}
	}
	return "", false
}

// substitute resolves a Fn::Sub string's ${...} references.
func (role *Role) substitute(sub, tableARN string) (string, bool) {
	var out strings.Builder
	for {
		start := strings.Index(sub, "${")
		if start < 0 {
			out.WriteString(sub)
			return out.String(), true
		}
		end := strings.Index(sub[start:], "}")
		if end < 0 {
			return "", false
		}
		out.WriteString(sub[:start])
		name := sub[start+2 : start+end]
		switch {
		case name == "AWS::Region":
			out.WriteString(Region)
		case name == "AWS::AccountId":
			out.WriteString(AccountID)
		case name == "AWS::Partition":
			out.WriteString("aws")
		case strings.HasSuffix(name, ".Arn") && role.tables[strings.TrimSuffix(name, ".Arn")]:
			out.WriteString(tableARN)
		default:
			return "", false
		}
		sub = sub[start+end+1:]
	}
}

// TableARN is a table's ARN in the local account.
func TableARN(table string) string {
	return "arn:aws:dynamodb:" + Region + ":" + AccountID + ":table/" + table
}

// SecretARN is the ARN a secret of the stack has locally.
func SecretARN(logicalID string) string {
	return "arn:aws:secretsmanager:" + Region + ":" + AccountID + ":secret:" + logicalID
}

// wildcardMatch matches IAM's wildcards: * is any run of characters (slashes included) and ? is
// any one character.
func wildcardMatch(pattern, s string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if wildcardMatch(pattern[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			pattern, s = pattern[1:], s[1:]
		default:
			if s == "" || pattern[0] != s[0] {
				return false
			}
			pattern, s = pattern[1:], s[1:]
		}
	}
	return s == ""
}

// dig follows keys through nested objects.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

// asList reads a value that IAM lets be one item or a list.
func asList(v any) []any {
	switch l := v.(type) {
	case nil:
		return nil
	case []any:
		return l
	default:
		return []any{l}
	}
}

// LoadRepository reads the roles of the template at root/template.yaml, translated as
// CloudFormation receives it.
func LoadRepository(root string) (Roles, error) {
	translated, err := samtemplate.Translate(root)
	if err != nil {
		return Roles{}, err
	}
	return Load(translated)
}
