package httpapi

import "html/template"

// pageStyle adds to the dashboard's style what the campaign page and the charts need: a visible
// focus ring for keyboard users, link colours with contrast, and the legend's swatches.
const pageStyle = `<style>
a{color:#0b5cad} a:focus-visible,button:focus-visible,select:focus-visible,summary:focus-visible{outline:3px solid #0b5cad;outline-offset:2px}
.chart{background:#fff;border:1px solid #dde1e6;max-width:760px;display:block;margin:4px 0 12px}
.legend{list-style:none;padding:0;margin:0 0 4px;display:flex;gap:14px;font-size:13px}
.swatch{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
caption{text-align:left;font-weight:600;padding:6px 0;font-size:13px}
form.filters{display:flex;gap:10px;align-items:end;margin:8px 0} label{font-size:13px}
</style>`

// chartsSection shows a period's charts, its numbers and their data table; it expects a charts.
const chartsSection = `{{define "charts"}}
<section aria-labelledby="numbers-heading"><h2 id="numbers-heading">Last {{.Hours}} hours <span class="muted">(<time datetime="{{.Charts.From.ISO}}">{{.Charts.From.Text}}</time> to <time datetime="{{.Charts.To.ISO}}">{{.Charts.To.Text}}</time>)</span></h2>
<div class="tiles" id="period-numbers">
<div class="tile"><span class="muted">answer rate (answered of dialled)</span><b id="answer-rate">{{.Charts.Numbers.AnswerRate}}</b><span class="muted">{{.Charts.Numbers.Answered}} of {{.Charts.Numbers.Dialled}} calls</span></div>
<div class="tile"><span class="muted">cost per answered call (USD)</span><b id="cost-per-answered">{{.Charts.Numbers.CostPerAnswered}}</b><span class="muted">of <span id="period-cost">{{.Charts.Numbers.Cost}}</span> in all</span></div>
<div class="tile"><span class="muted">average talk time</span><b id="average-talk">{{.Charts.Numbers.AverageTalk}} s</b><span class="muted">over answered calls</span></div>
<div class="tile"><span class="muted">calls ended</span><b id="calls-ended">{{.Charts.Numbers.Ended}}</b></div>
</div>
<form class="filters" method="get"><label for="hours">Period</label><select id="hours" name="hours">{{$h := .Hours}}{{range .HourChoices}}<option value="{{.}}"{{if eq . $h}} selected{{end}}>last {{.}} hours</option>{{end}}</select><button type="submit">Show</button></form>
<h3>Calls ended per hour, by outcome</h3>
<ul class="legend" aria-hidden="true">{{range .Charts.Legend}}<li><span class="swatch" style="background:{{.Colour}}"></span>{{.Name}}</li>{{end}}</ul>
{{.Charts.Ended}}
<h3>Cost per hour</h3>
{{.Charts.Cost}}
<h3>Answer rate per hour</h3>
{{.Charts.AnswerRate}}
<table id="hours-table"><caption>The charts' numbers, per hour (UTC); hours in which no call ended are left out</caption>
<tr><th scope="col">hour</th>{{range .Charts.OutcomeHeader}}<th scope="col">{{.}}</th>{{end}}<th scope="col">dialled</th><th scope="col">answer rate</th><th scope="col">cost (USD)</th><th scope="col">talk (s)</th></tr>
{{range .Charts.Rows}}<tr><th scope="row"><time datetime="{{.Hour.ISO}}">{{.Hour.Text}}</time></th>{{range .Ended}}<td>{{.}}</td>{{end}}<td>{{.Dialled}}</td><td>{{.AnswerRate}}</td><td>{{.Cost}}</td><td>{{.Talk}}</td></tr>
{{else}}<tr><td colspan="11" class="muted">No call ended in this period.</td></tr>{{end}}</table>
<p class="muted">Median talk time is not shown: the hour counters hold sums, which give an exact average; an exact median needs every call's duration, which a page that reads no calls cannot have.</p>
</section>{{end}}`

var campaignTemplate = template.Must(template.Must(template.New("campaign").Parse(chartsSection)).Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{{.Campaign.Name}}: ringfence campaign</title>` + style + pageStyle + `</head><body>
<nav><a href="/dashboard">All campaigns</a></nav>
<main>
<h1>{{.Campaign.Name}}</h1><p class="muted">Campaign {{.Campaign.ID}} · <span id="campaign-status">{{.Campaign.Status}}</span> · account {{.Account}} · shown at <time datetime="{{.Now.ISO}}">{{.Now.Text}}</time> · times in UTC</p>
<div>{{$id := .Campaign.ID}}{{range .Actions}}<form method="post" action="/dashboard/campaigns/{{$id}}/{{.}}" style="display:inline"><button type="submit">{{.}}</button></form> {{end}}
<a href="/dashboard/campaigns/{{.Campaign.ID}}/calls.csv" id="csv" download>Download all calls as CSV</a></div>
<h2>Settings</h2>
<table id="settings">{{range .Settings}}<tr><th scope="row">{{.Name}}</th><td>{{.Value}}</td></tr>{{end}}</table>
<h2>Counters</h2>
<div class="tiles" id="counters">
<div class="tile"><span class="muted">contacts finished</span><b id="finished">{{.Lifetime.Finished}} / {{.Campaign.TotalContacts}}</b></div>
<div class="tile"><span class="muted">contacts answered</span><b>{{.Lifetime.Answered}}</b><span class="muted">{{.Lifetime.AnswerRate}} of finished</span></div>
<div class="tile"><span class="muted">attempts per contact</span><b id="attempts-per-contact">{{.Lifetime.AttemptsPerDone}}</b><span class="muted">{{.Lifetime.Attempts}} calls placed</span></div>
<div class="tile"><span class="muted">total cost (USD)</span><b id="total-cost">{{.Lifetime.Cost}}</b><span class="muted">{{.Lifetime.CostPerAnswered}} per answered contact</span></div>
</div>
<table id="outcomes"><caption>Finished contacts by outcome</caption><tr>{{range $k, $v := .Campaign.OutcomeCounts}}<th scope="col">{{$k}}</th>{{end}}</tr><tr>{{range $k, $v := .Campaign.OutcomeCounts}}<td>{{$v}}</td>{{end}}</tr></table>
{{template "charts" .}}
<section aria-labelledby="calls-heading"><h2 id="calls-heading">Calls</h2>
<form class="filters" method="get" id="filters">
<div><label for="status">Status</label><br><select id="status" name="status"><option value="">any</option>{{$st := .Status}}{{range .Statuses}}<option value="{{.}}"{{if eq (print .) $st}} selected{{end}}>{{.}}</option>{{end}}</select></div>
<div><label for="outcome">Outcome</label><br><select id="outcome" name="outcome"><option value="">any</option>{{$o := .Outcome}}{{range .Outcomes}}<option value="{{.}}"{{if eq (print .) $o}} selected{{end}}>{{.}}</option>{{end}}</select></div>
<input type="hidden" name="hours" value="{{.Hours}}"><button type="submit">Filter</button></form>
<table id="calls"><caption>{{if .Filtered}}Calls of this page that match the filter{{else}}Calls, in contact order{{end}}, {{len .Calls}} shown</caption>
<tr><th scope="col">contact</th><th scope="col">attempt</th><th scope="col">status</th><th scope="col">outcome</th><th scope="col">created</th><th scope="col">ended</th><th scope="col">duration</th><th scope="col">cost (USD)</th><th scope="col">end reason</th><th scope="col">waits for</th><th scope="col">recording and transcript</th></tr>
{{range .Calls}}<tr data-call="{{.ID}}" data-status="{{.Status}}"><td>{{.Contact}}<br><span class="muted">{{.Phone}} · {{.ID}}</span></td><td>{{.Attempt}}</td><td>{{.Status}}</td><td>{{.Outcome}}</td>
<td>{{if .Created.ISO}}<time datetime="{{.Created.ISO}}">{{.Created.Text}}</time>{{end}}</td><td>{{if .Ended.ISO}}<time datetime="{{.Ended.ISO}}">{{.Ended.Text}}</time>{{end}}</td>
<td>{{.Duration}}</td><td>{{.Cost}}</td><td>{{.EndReason}}</td><td>{{.WaitsFor}}</td>
<td>{{if .RecordingURL}}<a href="{{.RecordingURL}}" rel="noreferrer">recording<span class="visually-hidden"> of call {{.ID}}</span></a>{{end}}{{if .Transcript}}<details><summary>transcript<span class="visually-hidden"> of call {{.ID}}</span></summary><pre style="white-space:pre-wrap">{{.Transcript}}</pre></details>{{end}}</td></tr>
{{else}}<tr><td colspan="11" class="muted">No calls on this page{{if .Filtered}} match the filter{{end}}.</td></tr>{{end}}</table>
{{if .Next}}<p><a href="{{.Next}}" id="next-page">Next calls</a></p>{{end}}
</section></main></body></html>`))
