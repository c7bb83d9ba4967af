// Package samtemplate reads template.yaml, the one description of what ringfence deploys: its
// functions, the HTTP routes and schedules that invoke them, and the table. The local runner
// serves exactly those routes and schedules, and creates exactly that table.
package samtemplate

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/ringfence/ringfence/shared/dynamo"
	"go.yaml.in/yaml/v3"
)

// Template is what the local runner needs of template.yaml.
type Template struct {
	Functions []Function
	Table     dynamo.TableDefinition
}

// Function is one AWS::Serverless::Function.
type Function struct {
	LogicalID string
	Name      string // The folder under functions/, e.g. "bolna-webhook".
	// BuildMethod is how `sam build` builds it (Metadata.BuildMethod), e.g. "makefile".
	BuildMethod string
	Routes      []Route
	Schedules   []Schedule
	// Environment is the function's environment as SAM gives it: the Globals' variables, and the
	// function's own over them.
	Environment map[string]EnvValue
	// Timeout (seconds) and MemorySize (MB) are the function's, or the Globals'.
	Timeout    int
	MemorySize int
}

// EnvValue is an environment variable's value in the template: a literal, with parameters
// resolved to their defaults (what a deployment without overrides gets), or a reference to a
// resource of the stack (!Ref Table, !Ref ApiKeySecret), whose value exists only once deployed.
type EnvValue struct {
	Value string
	Ref   string // The resource's logical id; Value is then empty.
}

// Route is an HttpApi event: a method and a path template such as /campaigns/{id}.
type Route struct {
	Method string
	Path   string
}

// Schedule is a Schedule or ScheduleV2 event with a rate(...) expression.
type Schedule struct {
	Name     string
	Every    time.Duration
	Disabled bool
}

// raw mirrors the parts of the template this package reads. CloudFormation's short-form tags
// (!Ref, !Sub, !GetAtt) decode as their plain values, which is all the local runner needs.
// Resources is read loosely because an Fn::ForEach entry (alarms, log groups, secrets) is a list,
// not a resource; the functions and the table are never inside one.
type raw struct {
	Parameters map[string]struct {
		Default any `yaml:"Default"`
	} `yaml:"Parameters"`
	Globals struct {
		Function functionSettings `yaml:"Function"`
	} `yaml:"Globals"`
	Resources map[string]any `yaml:"Resources"`
}

// functionSettings are the settings of a function that Globals may give every function. The
// environment is kept as YAML nodes, whose tags tell a !Ref from a literal.
type functionSettings struct {
	Environment struct {
		Variables yaml.Node `yaml:"Variables"`
	} `yaml:"Environment"`
	Timeout    int `yaml:"Timeout"`
	MemorySize int `yaml:"MemorySize"`
}

// rawFunctions reads each resource as YAML nodes, for the settings of the functions among them.
type rawFunctions struct {
	Resources map[string]yaml.Node `yaml:"Resources"`
}

// resource is one entry of Resources that is not an Fn::ForEach.
type resource struct {
	Type       string
	Properties map[string]any
	Metadata   map[string]any
}

func resourceOf(v any) resource {
	m, _ := v.(map[string]any)
	r := resource{}
	r.Type, _ = m["Type"].(string)
	r.Properties, _ = m["Properties"].(map[string]any)
	r.Metadata, _ = m["Metadata"].(map[string]any)
	return r
}

// Load reads and parses the template at file.
func Load(file string) (Template, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return Template{}, err
	}
	return Parse(b)
}

// Parse parses a template's text.
func Parse(b []byte) (Template, error) {
	var r raw
	if err := yaml.Unmarshal(b, &r); err != nil {
		return Template{}, fmt.Errorf("parse template: %w", err)
	}
	var t Template
	ids := make([]string, 0, len(r.Resources))
	for id := range r.Resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	// A !Ref decodes as the name it refers to; a parameter's name resolves to its default, which
	// is what a deployment without overrides gets.
	defaults := map[string]string{}
	for name, p := range r.Parameters {
		if p.Default != nil {
			defaults[name] = fmt.Sprint(p.Default)
		}
	}
	var nodes rawFunctions
	if err := yaml.Unmarshal(b, &nodes); err != nil {
		return Template{}, fmt.Errorf("parse template: %w", err)
	}
	foundTable := false
	for _, id := range ids {
		res := resourceOf(r.Resources[id])
		switch res.Type {
		case "AWS::Serverless::Function":
			fn, err := parseFunction(id, res.Properties, defaults)
			if err != nil {
				return Template{}, err
			}
			fn.BuildMethod, _ = res.Metadata["BuildMethod"].(string)
			node := nodes.Resources[id]
			if err := fn.applySettings(r.Globals.Function, &node, defaults); err != nil {
				return Template{}, fmt.Errorf("function %s: %w", id, err)
			}
			t.Functions = append(t.Functions, fn)
		case "AWS::DynamoDB::Table":
			if foundTable {
				return Template{}, fmt.Errorf("template declares more than one table")
			}
			table, err := parseTable(res.Properties)
			if err != nil {
				return Template{}, fmt.Errorf("table %s: %w", id, err)
			}
			t.Table, foundTable = table, true
		}
	}
	if !foundTable {
		return Template{}, fmt.Errorf("template declares no AWS::DynamoDB::Table")
	}
	return t, nil
}

func parseFunction(id string, props map[string]any, defaults map[string]string) (Function, error) {
	fn := Function{LogicalID: id, Name: FolderOf(id)}
	if codeURI, _ := props["CodeUri"].(string); codeURI != "" && codeURI != "." {
		// A function built from its own folder (BuildMethod go1.x) is named by that folder.
		fn.Name = path.Base(strings.TrimSuffix(codeURI, "/"))
	}
	events, _ := props["Events"].(map[string]any)
	for name, e := range events {
		ev, _ := e.(map[string]any)
		p, _ := ev["Properties"].(map[string]any)
		switch ev["Type"] {
		case "HttpApi":
			method, _ := p["Method"].(string)
			route, _ := p["Path"].(string)
			fn.Routes = append(fn.Routes, Route{Method: strings.ToUpper(method), Path: route})
		case "Schedule", "ScheduleV2":
			expr, _ := p["Schedule"].(string)
			if expr == "" {
				expr, _ = p["ScheduleExpression"].(string)
			}
			if d, ok := defaults[expr]; ok {
				expr = d
			}
			every, err := parseRate(expr)
			if err != nil {
				return Function{}, fmt.Errorf("function %s, event %s: %w", id, name, err)
			}
			enabled, hasEnabled := p["Enabled"].(bool)
			state, _ := p["State"].(string)
			disabled := (hasEnabled && !enabled) || state == "DISABLED"
			fn.Schedules = append(fn.Schedules, Schedule{Name: name, Every: every, Disabled: disabled})
		}
	}
	sort.Slice(fn.Routes, func(i, j int) bool {
		return fn.Routes[i].Path+fn.Routes[i].Method < fn.Routes[j].Path+fn.Routes[j].Method
	})
	sort.Slice(fn.Schedules, func(i, j int) bool { return fn.Schedules[i].Name < fn.Schedules[j].Name })
	return fn, nil
}

// applySettings gives the function its environment, timeout and memory size: its own over the
// Globals', as SAM merges them (variables one by one, the rest whole).
func (fn *Function) applySettings(globals functionSettings, node *yaml.Node, defaults map[string]string) error {
	var own struct {
		Properties functionSettings `yaml:"Properties"`
	}
	if err := node.Decode(&own); err != nil {
		return err
	}
	fn.Environment = map[string]EnvValue{}
	for _, vars := range []*yaml.Node{&globals.Environment.Variables, &own.Properties.Environment.Variables} {
		for i := 0; i+1 < len(vars.Content); i += 2 {
			name := vars.Content[i].Value
			v, err := envValue(vars.Content[i+1], defaults)
			if err != nil {
				return fmt.Errorf("environment variable %s: %w", name, err)
			}
			fn.Environment[name] = v
		}
	}
	fn.Timeout, fn.MemorySize = globals.Timeout, globals.MemorySize
	if own.Properties.Timeout != 0 {
		fn.Timeout = own.Properties.Timeout
	}
	if own.Properties.MemorySize != 0 {
		fn.MemorySize = own.Properties.MemorySize
	}
	return nil
}

// envValue reads a variable's value: a literal, a !Ref (or {Ref: ...}) to a parameter or a
// resource, or a !Join of parameters and literals. Anything else is refused, so that a new form
// in the template fails here rather than giving a function a wrong value locally.
func envValue(n *yaml.Node, defaults map[string]string) (EnvValue, error) {
	switch {
	case n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value == "Ref":
		return ref(n.Content[1].Value, defaults), nil
	case n.Kind == yaml.ScalarNode && n.Tag == "!Ref":
		return ref(n.Value, defaults), nil
	case n.Kind == yaml.ScalarNode && strings.HasPrefix(n.ShortTag(), "!!"):
		return EnvValue{Value: n.Value}, nil
	case n.Kind == yaml.SequenceNode && n.Tag == "!Join" && len(n.Content) == 2:
		sep := n.Content[0].Value
		items := []*yaml.Node{n.Content[1]}
		if n.Content[1].Kind == yaml.SequenceNode {
			items = n.Content[1].Content
		}
		var parts []string
		for _, item := range items {
			v, err := envValue(item, defaults)
			if err != nil || v.Ref != "" {
				return EnvValue{}, fmt.Errorf("a !Join of a resource (%s) has no local value", v.Ref)
			}
			if v.Value != "" {
				// A list parameter's default is comma-separated.
				parts = append(parts, strings.Split(v.Value, ",")...)
			}
		}
		return EnvValue{Value: strings.Join(parts, sep)}, nil
	}
	return EnvValue{}, fmt.Errorf("line %d: only literals, !Ref and !Join are read", n.Line)
}

// ref resolves a !Ref: a parameter to its default, a resource to a reference.
func ref(name string, defaults map[string]string) EnvValue {
	if d, ok := defaults[name]; ok {
		return EnvValue{Value: d}
	}
	return EnvValue{Ref: name}
}

// FolderOf names the folder under functions/ of a function built from the repository root
// (CodeUri: .): its logical id without "Function", in kebab case, so BolnaWebhookFunction is
// functions/bolna-webhook. The Makefile's build-<LogicalId> targets follow the same rule.
func FolderOf(logicalID string) string {
	var b strings.Builder
	for i, r := range strings.TrimSuffix(logicalID, "Function") {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// parseRate reads an EventBridge rate expression such as "rate(1 minute)" or "rate(15 minutes)".
func parseRate(expr string) (time.Duration, error) {
	inner, ok := strings.CutPrefix(strings.TrimSpace(expr), "rate(")
	inner, ok2 := strings.CutSuffix(inner, ")")
	var n int
	var unit string
	if !ok || !ok2 {
		return 0, fmt.Errorf("schedule %q is not a rate(...) expression", expr)
	}
	if _, err := fmt.Sscanf(inner, "%d %s", &n, &unit); err != nil || n <= 0 {
		return 0, fmt.Errorf("schedule %q is not a rate(...) expression", expr)
	}
	units := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
	d, ok := units[strings.TrimSuffix(unit, "s")]
	if !ok {
		return 0, fmt.Errorf("schedule %q has an unknown unit", expr)
	}
	return time.Duration(n) * d, nil
}

func parseTable(props map[string]any) (dynamo.TableDefinition, error) {
	def := dynamo.TableDefinition{Attributes: map[string]string{}}
	for _, a := range list(props["AttributeDefinitions"]) {
		def.Attributes[str(a, "AttributeName")] = str(a, "AttributeType")
	}
	def.HashKey, def.RangeKey = keys(props["KeySchema"])
	for _, ix := range list(props["GlobalSecondaryIndexes"]) {
		proj, _ := ix["Projection"].(map[string]any)
		idx := dynamo.IndexDefinition{Name: str(ix, "IndexName"), Projection: str(proj, "ProjectionType")}
		idx.HashKey, idx.RangeKey = keys(ix["KeySchema"])
		if nk, ok := proj["NonKeyAttributes"].([]any); ok {
			for _, a := range nk {
				idx.NonKeyAttributes = append(idx.NonKeyAttributes, fmt.Sprint(a))
			}
		}
		def.Indexes = append(def.Indexes, idx)
	}
	if ttl, ok := props["TimeToLiveSpecification"].(map[string]any); ok && ttl["Enabled"] == true {
		def.TTLAttribute = str(ttl, "AttributeName")
	}
	if def.HashKey == "" {
		return def, fmt.Errorf("no HASH key in KeySchema")
	}
	return def, nil
}

func list(v any) []map[string]any {
	items, _ := v.([]any)
	out := make([]map[string]any, 0, len(items))
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func keys(schema any) (hash, rangeKey string) {
	for _, k := range list(schema) {
		switch str(k, "KeyType") {
		case "HASH":
			hash = str(k, "AttributeName")
		case "RANGE":
			rangeKey = str(k, "AttributeName")
		}
	}
	return hash, rangeKey
}
