// Package report renders kdp advise's report as one self-contained HTML
// file (no script, no network: styles inline, the chart an inline SVG):
// the monthly cost of the least-cost mix and of each single data plane as
// a bar chart, and a table with each workload's line, linking to its
// manifest's file and line, where it can run (and the rule and field that
// keep it off the others), the recommendation with its levers, and its
// monthly cost on each option.
package report

import (
	"fmt"
	"html/template"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/kdp-project/kdp/internal/advise"
	"github.com/kdp-project/kdp/internal/advise/manifest"
)

// Meta is what the report says about itself.
type Meta struct {
	Title     string
	Generated time.Time
	// PriceNote names the price data: its source and date.
	PriceNote string
}

// bar is one bar of the chart.
type bar struct {
	Label      string
	Monthly    float64
	Width      float64
	Y          float64
	Note       string
	Mix        bool
	Infeasible int
}

// row is one workload's line of the table.
type row struct {
	Name, Kind, Location string
	// Link is a file: URL kdp made itself (html/template refuses file:
	// URLs it is not told are safe).
	Link           template.URL
	Replicas       string
	Cells          []cell
	Recommendation string
	Levers         []string
}

// cell is one option of a workload: can it run there, why not, and at
// what cost.
type cell struct {
	OK   bool
	Why  string
	Cost string
}

const chartWidth = 560

// HTML writes the report.
func HTML(w io.Writer, r advise.Report, m Meta) error {
	bars := []bar{{Label: "least-cost mix", Monthly: r.Summary.Mix.Monthly, Mix: true, Infeasible: len(r.Summary.Mix.Infeasible)}}
	for _, p := range r.Summary.Single {
		bars = append(bars, bar{Label: "all on " + p.Name, Monthly: p.Monthly, Infeasible: len(p.Infeasible)})
	}
	most := 0.0
	for _, b := range bars {
		most = max(most, b.Monthly)
	}
	for i := range bars {
		if most > 0 {
			bars[i].Width = bars[i].Monthly / most * chartWidth
		}
		bars[i].Y = float64(i) * 34
		if n := bars[i].Infeasible; n > 0 {
			bars[i].Note = fmt.Sprintf("(%d workloads cannot run there)", n)
		}
	}
	var rows []row
	for _, a := range r.Advice {
		wl := a.Workload
		rw := row{
			Name: wl.Namespace + "/" + wl.Name, Kind: string(wl.Kind), Replicas: fmt.Sprint(wl.Replicas),
			Location: manifest.Source{File: wl.Source.File, Line: wl.Source.Line}.String(), Link: fileLink(wl.Source.File, wl.Source.Line),
			Recommendation: string(a.Recommendation.Option),
		}
		if wl.Kind == advise.DaemonSet {
			rw.Replicas = "one per node"
		}
		for _, o := range advise.Options {
			c := cell{OK: a.Placement.Can(o)}
			if !c.OK {
				var why []string
				for _, reason := range a.Placement.Why(o) {
					why = append(why, fmt.Sprintf("%s (%s): %s", reason.Field, reason.Rule, reason.Message))
				}
				c.Why = strings.Join(why, "; ")
			} else if cost := a.Cost(o); cost.Monthly > 0 {
				c.Cost = fmt.Sprintf("$%.2f", cost.Monthly)
			}
			rw.Cells = append(rw.Cells, c)
		}
		for _, l := range a.Recommendation.Levers {
			rw.Levers = append(rw.Levers, fmt.Sprintf("%s: %s", l.Name, l.Why))
		}
		rows = append(rows, rw)
	}
	return page.Execute(w, map[string]any{
		"Meta": m, "Generated": m.Generated.UTC().Format(time.RFC3339), "Bars": bars, "ChartHeight": len(bars)*34 + 4,
		"ChartWidth": chartWidth, "Rows": rows, "Options": advise.Options, "Mix": r.Summary.Mix,
	})
}

// fileLink is a file: URL of a manifest, absolute, with its line as the
// fragment (#L12) as code viewers take it; "" for standard input and
// for the cluster's workloads.
func fileLink(file string, line int) template.URL {
	if file == "" || file == "-" || line == 0 {
		return "" // standard input, or the cluster (--live)
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		abs = file
	}
	return template.URL((&url.URL{Scheme: "file", Path: abs, Fragment: fmt.Sprintf("L%d", line)}).String())
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"money": func(v float64) string { return fmt.Sprintf("$%.2f", v) },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Meta.Title}}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em; color: #1d232a; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
.meta { color: #5a6570; margin-bottom: 1.5em; }
svg text { font: 13px system-ui, sans-serif; fill: #1d232a; }
rect.bar { fill: #7aa6d8; }
rect.bar.mix { fill: #2f7d4f; }
table { border-collapse: collapse; margin-top: 1.5em; width: 100%; }
th, td { border: 1px solid #d5dbe0; padding: 0.35em 0.6em; text-align: left; vertical-align: top; }
th { background: #eef2f5; }
td.ok { color: #2f7d4f; }
td.no { color: #a33a2b; font-size: 0.9em; }
ul.levers { margin: 0; padding-left: 1.1em; font-size: 0.9em; }
</style>
</head>
<body>
<h1>{{.Meta.Title}}</h1>
<div class="meta">Generated {{.Generated}}. {{.Meta.PriceNote}}</div>
<h2>Monthly cost</h2>
<svg id="cost-chart" role="img" aria-label="monthly cost per option" width="1000" height="{{.ChartHeight}}" viewBox="0 0 1000 {{.ChartHeight}}">
{{- range .Bars}}
<g class="plan" data-plan="{{.Label}}" data-monthly="{{printf "%.2f" .Monthly}}">
<text x="0" y="{{.Y}}" dy="20">{{.Label}}</text>
<rect class="bar{{if .Mix}} mix{{end}}" x="200" y="{{.Y}}" height="26" width="{{printf "%.1f" .Width}}"></rect>
<text x="{{printf "%.1f" .Width}}" y="{{.Y}}" dx="208" dy="18">{{money .Monthly}} {{.Note}}</text>
</g>
{{- end}}
</svg>
<h2>Workloads</h2>
<table id="workloads">
<thead><tr><th>Workload</th><th>Kind</th><th>Replicas</th>{{range .Options}}<th>{{.}}</th>{{end}}<th>Recommendation</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr class="workload">
<td>{{if .Link}}<a href="{{.Link}}">{{.Name}}</a>{{else}}{{.Name}}{{end}}<br><small>{{.Location}}</small></td>
<td>{{.Kind}}</td><td>{{.Replicas}}</td>
{{- range .Cells}}
{{if .OK}}<td class="ok">✓ {{.Cost}}</td>{{else}}<td class="no">✗ {{.Why}}</td>{{end}}
{{- end}}
<td>{{.Recommendation}}{{if .Levers}}<ul class="levers">{{range .Levers}}<li>{{.}}</li>{{end}}</ul>{{end}}</td>
</tr>
{{- end}}
</tbody>
</table>
</body>
</html>
`))
