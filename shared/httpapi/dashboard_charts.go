package httpapi

import (
	"fmt"
	"html/template"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// The charts are drawn here, on the server, as inline SVG from the hour counters: no script and no
// build step, and each chart has a title, a description and the same numbers as a table.

// outcomeColours are the bars' colours, each at least 3:1 against the white background (WCAG's
// contrast for graphics), and never the only cue: the legend and the table name every outcome.
var outcomeColours = map[ringfence.CallStatus]string{
	ringfence.StatusCompleted: "#1b7f3b", ringfence.StatusNoAnswer: "#a35200", ringfence.StatusBusy: "#6a3fb5",
	ringfence.StatusFailed: "#c0262d", ringfence.StatusCancelled: "#56606b", ringfence.StatusSkipped: "#0b6fa4",
}

// charts is what a page shows of a period's hour counters.
type charts struct {
	Subject       string
	From, To      stamp
	Ended         template.HTML
	Cost          template.HTML
	AnswerRate    template.HTML
	Legend        []legendEntry
	Rows          []hourRow
	Numbers       periodNumbers
	OutcomeHeader []string
}

type legendEntry struct{ Name, Colour string }

// hourRow is one hour of the data table under the charts.
type hourRow struct {
	Hour                     stamp
	Ended                    []int
	Dialled, Answered, Total int
	AnswerRate, Cost, Talk   string
}

// periodNumbers are the numbers people ask for, over the charted period, from its hour counters.
type periodNumbers struct {
	Ended, Dialled, Answered               int
	AnswerRate, Cost, CostPerAnswered      string
	AverageTalk, TalkSeconds, AttemptsNote string
}

// chartsOf draws a period of hours (from, and hours after it) of one campaign or account.
func chartsOf(stats []ringfence.HourStats, from time.Time, hours int, subject string) charts {
	from = from.UTC().Truncate(time.Hour)
	byHour := map[time.Time]ringfence.HourStats{}
	total := ringfence.HourStats{Ended: map[ringfence.CallStatus]int{}}
	for _, h := range stats {
		byHour[h.Hour.UTC().Truncate(time.Hour)] = h
		total = total.Plus(h)
	}
	c := charts{Subject: subject, From: stampOf(from), To: stampOf(from.Add(time.Duration(hours) * time.Hour))}
	for _, o := range ringfence.CampaignOutcomes {
		c.Legend = append(c.Legend, legendEntry{string(o), outcomeColours[o]})
		c.OutcomeHeader = append(c.OutcomeHeader, string(o))
	}
	series := make([]ringfence.HourStats, hours)
	for i := range series {
		at := from.Add(time.Duration(i) * time.Hour)
		series[i] = byHour[at]
		series[i].Hour = at
		if h, ok := byHour[at]; ok {
			c.Rows = append(c.Rows, hourRowOf(h, at))
		}
	}
	c.Ended = endedChart(series, subject)
	c.Cost = costChart(series, subject)
	c.AnswerRate = answerRateChart(series, subject)
	c.Numbers = periodNumbers{Ended: total.EndedTotal(), Dialled: total.Dialled, Answered: total.Answered(),
		AnswerRate: percent(total.Answered(), total.Dialled), Cost: total.Cost.String(),
		CostPerAnswered: ratio(total.Cost, total.Answered(), 4), AverageTalk: ratio(total.TalkSeconds, total.Answered(), 1),
		TalkSeconds: total.TalkSeconds.String()}
	return c
}

func hourRowOf(h ringfence.HourStats, at time.Time) hourRow {
	r := hourRow{Hour: stampOf(at), Dialled: h.Dialled, Answered: h.Answered(), Total: h.EndedTotal(),
		AnswerRate: percent(h.Answered(), h.Dialled), Cost: h.Cost.String(), Talk: h.TalkSeconds.String()}
	for _, o := range ringfence.CampaignOutcomes {
		r.Ended = append(r.Ended, h.Ended[o])
	}
	return r
}

// percent is n of d as a percentage with one decimal, computed in integers ("–" when d is 0).
func percent(n, d int) string {
	if d == 0 {
		return "–"
	}
	tenths := (1000*n + d/2) / d
	return strconv.Itoa(tenths/10) + "." + strconv.Itoa(tenths%10) + "%"
}

// ratio divides an exact decimal by a count, exactly (as a rational), and rounds only to show it:
// money never passes through float64.
func ratio(d ringfence.Decimal, n, places int) string {
	if n == 0 {
		return "–"
	}
	r, ok := new(big.Rat).SetString(d.String())
	if !ok {
		return "–"
	}
	return r.Quo(r, big.NewRat(int64(n), 1)).FloatString(places)
}

// Chart geometry, in SVG user units.
const (
	chartWidth  = 720
	chartHeight = 170
	chartLeft   = 48
	chartBottom = 22
	chartTop    = 12
)

// svgChart draws bars: for each hour, stacked segments (value, colour, label), against a top
// value (max), with the y axis labelled by topLabel.
type segment struct {
	value  int64
	colour string
	label  string
}

func svgChart(id, title, desc string, series []ringfence.HourStats, bars [][]segment, max int64, topLabel string) template.HTML {
	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<svg class="chart" id="%s" role="img" aria-labelledby="%s-title %s-desc" viewBox="0 0 %d %d" width="100%%" preserveAspectRatio="xMinYMin meet">`,
		id, id, id, chartWidth, chartHeight)
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, id, esc(title), id, esc(desc))
	plotH := chartHeight - chartBottom - chartTop
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#56606b"/>`, chartLeft, chartTop+plotH, chartWidth, chartTop+plotH)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" text-anchor="end" fill="#1d232a">%s</text>`, chartLeft-4, chartTop+8, esc(topLabel))
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" text-anchor="end" fill="#1d232a">0</text>`, chartLeft-4, chartTop+plotH)
	slot := (chartWidth - chartLeft) / max1(len(series))
	every := max1(len(series) / 8)
	for i, h := range series {
		x := chartLeft + i*slot
		y := chartTop + plotH
		for _, s := range bars[i] {
			if s.value <= 0 || max <= 0 {
				continue
			}
			height := int((s.value*int64(plotH) + max - 1) / max)
			y -= height
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s</title></rect>`,
				x+1, y, max1(slot-2), height, s.colour, esc(h.Hour.Format("Jan 2 15:00 UTC")+": "+s.label))
		}
		if i%every == 0 {
			fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="#1d232a">%s</text>`, x, chartHeight-6, h.Hour.Format("15:00"))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

func endedChart(series []ringfence.HourStats, subject string) template.HTML {
	bars := make([][]segment, len(series))
	var top int64
	for i, h := range series {
		var sum int64
		for _, o := range ringfence.CampaignOutcomes {
			if n := h.Ended[o]; n > 0 {
				bars[i] = append(bars[i], segment{int64(n), outcomeColours[o], strconv.Itoa(n) + " " + string(o)})
				sum += int64(n)
			}
		}
		top = max(top, sum)
	}
	return svgChart("chart-ended", "Calls ended per hour by outcome, "+subject,
		"Stacked bars, one per hour in UTC, coloured by outcome; the busiest hour had "+strconv.FormatInt(top, 10)+" calls. The table below lists every number.",
		series, bars, top, strconv.FormatInt(top, 10))
}

// tenThousandths turns a cost into whole ten-thousandths of a dollar, to scale the bars in integers.
func tenThousandths(d ringfence.Decimal) int64 {
	n, _ := strconv.ParseInt(d.Shift(4).Round(0).String(), 10, 64)
	return n
}

func costChart(series []ringfence.HourStats, subject string) template.HTML {
	bars := make([][]segment, len(series))
	var top int64
	topLabel := "0"
	for i, h := range series {
		v := tenThousandths(h.Cost)
		bars[i] = []segment{{v, "#0b5cad", "USD " + h.Cost.String()}}
		if v > top {
			top, topLabel = v, "$"+h.Cost.String()
		}
	}
	return svgChart("chart-cost", "Cost per hour in USD, "+subject,
		"Bars, one per hour in UTC, of the cost of the calls that ended in it; the costliest hour cost "+topLabel+". The table below lists every number.",
		series, bars, top, topLabel)
}

func answerRateChart(series []ringfence.HourStats, subject string) template.HTML {
	bars := make([][]segment, len(series))
	for i, h := range series {
		if h.Dialled > 0 {
			bars[i] = []segment{{int64(1000 * h.Answered() / h.Dialled), "#1b7f3b", percent(h.Answered(), h.Dialled) + " answered of " + strconv.Itoa(h.Dialled) + " dialled"}}
		}
	}
	return svgChart("chart-answer-rate", "Answer rate per hour, "+subject,
		"Bars, one per hour in UTC, of the share of dialled calls that were answered, from 0 to 100%. Hours with no dialled call have no bar. The table below lists every number.",
		series, bars, 1000, "100%")
}

// lifetimeNumbers are a campaign's numbers over its whole life, from its counters, which count
// contacts (a contact's last attempt) where the hour counters count calls.
type lifetimeNumbers struct {
	Finished, Answered, Attempts                 int
	AnswerRate, CostPerAnswered, AttemptsPerDone string
	Cost                                         string
}

func lifetimeNumbersOf(c ringfence.Campaign) lifetimeNumbers {
	answered := c.OutcomeCounts[ringfence.StatusCompleted]
	return lifetimeNumbers{Finished: c.CallsCompleted, Answered: answered, Attempts: c.Attempts,
		AnswerRate: percent(answered, c.CallsCompleted), CostPerAnswered: ratio(c.TotalCost, answered, 4),
		AttemptsPerDone: ratio(ringfence.MustParseDecimal(strconv.Itoa(c.Attempts)), c.CallsCompleted, 2), Cost: c.TotalCost.String()}
}
