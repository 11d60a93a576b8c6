package cli

import (
	"fmt"
	"html/template"
	"io"
	"net/url"
	"path/filepath"
)

// adviseHTML writes kdp advise's report as one self-contained HTML file
// (inline styles, the chart an inline SVG; no script, nothing fetched),
// from the same report the table, markdown and JSON print: the monthly
// cost of the least-cost mix and of each single option as bars, and a
// table of every workload, linking to its manifest's file and line, with
// where it can run (or the rule and field that keep it off), the
// recommendation and its levers.
func adviseHTML(out io.Writer, r *adviseReport) error {
	type bar struct {
		Label, Note string
		MonthlyUsd  float64
		Width, Y    float64
		Mix         bool
	}
	bars := []bar{{Label: "least-cost mix", MonthlyUsd: r.Summary.Mix.MonthlyUsd, Mix: true}}
	for _, p := range r.Summary.Single {
		b := bar{Label: "all on " + p.Name, MonthlyUsd: p.MonthlyUsd}
		if n := len(p.CannotRun); n > 0 {
			b.Note = fmt.Sprintf("(%d workloads cannot run there)", n)
		}
		bars = append(bars, b)
	}
	most := 0.0
	for _, b := range bars {
		most = max(most, b.MonthlyUsd)
	}
	for i := range bars {
		if most > 0 {
			bars[i].Width = bars[i].MonthlyUsd / most * htmlBarWidth
		}
		bars[i].Y = float64(i) * 34
	}
	type cell struct {
		OK                bool
		Cost, Detail, Why string
	}
	type row struct {
		ID, Location, Replicas, Recommendation string
		Link                                   template.URL
		Cells                                  []cell
		Levers                                 []string
	}
	var options []string
	var rows []row
	for i := range r.Workloads {
		w := &r.Workloads[i]
		rw := row{ID: w.id(), Location: w.Source.String(), Replicas: w.replicas(), Link: w.manifestLink(), Recommendation: w.Recommendation.Option}
		for j := range w.Options {
			o := &w.Options[j]
			if i == 0 {
				options = append(options, o.Option)
			}
			c := cell{OK: o.Feasible, Cost: o.cost(), Detail: o.detail()}
			if !o.Feasible {
				c.Why = o.reasons()
			}
			rw.Cells = append(rw.Cells, c)
		}
		for _, l := range w.Recommendation.Levers {
			rw.Levers = append(rw.Levers, fmt.Sprintf("%s (%s): %s", l.Name, l.cost(), l.Why))
		}
		rows = append(rows, rw)
	}
	return advisePage.Execute(out, map[string]any{
		"Prices": r.priceLines(), "Bars": bars, "ChartHeight": len(bars)*34 + 4, "Options": options, "Rows": rows,
	})
}

// htmlBarWidth is the longest bar of the chart, in the SVG's units.
const htmlBarWidth = 560

// manifestLink is a file: URL of a workload's manifest, absolute, with
// its line as the fragment (#L12) as code viewers take it; none for
// standard input and the cluster's workloads (--live). html/template
// refuses file: URLs it is not told are safe: kdp makes this one.
func (w *adviseWorkload) manifestLink() template.URL {
	file, line := w.Source.File, w.Source.Line
	if file == "" || file == "-" || line == 0 {
		return ""
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		abs = file
	}
	return template.URL((&url.URL{Scheme: "file", Path: abs, Fragment: fmt.Sprintf("L%d", line)}).String())
}

// reasons are every reason an option cannot run the workload.
func (o *adviseOption) reasons() string {
	s := ""
	for i, r := range o.Reasons {
		if i > 0 {
			s += "; "
		}
		s += r.Field + " (" + r.Rule + "): " + r.Message
	}
	return s
}

var advisePage = template.Must(template.New("advise").Funcs(template.FuncMap{"money": money}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>kdp advise</title>
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
<h1>kdp advise</h1>
<div class="meta">{{range .Prices}}{{.}}<br>{{end}}</div>
<h2>Monthly cost</h2>
<svg id="cost-chart" role="img" aria-label="monthly cost per option" width="1000" height="{{.ChartHeight}}" viewBox="0 0 1000 {{.ChartHeight}}">
{{- range .Bars}}
<g class="plan" data-plan="{{.Label}}" data-monthly="{{printf "%.2f" .MonthlyUsd}}">
<text x="0" y="{{.Y}}" dy="20">{{.Label}}</text>
<rect class="bar{{if .Mix}} mix{{end}}" x="200" y="{{.Y}}" height="26" width="{{printf "%.1f" .Width}}"></rect>
<text x="{{printf "%.1f" .Width}}" y="{{.Y}}" dx="208" dy="18">{{money .MonthlyUsd}} {{.Note}}</text>
</g>
{{- end}}
</svg>
<h2>Workloads</h2>
<table id="workloads">
<thead><tr><th>Workload</th><th>Replicas</th>{{range .Options}}<th>{{.}}</th>{{end}}<th>Recommendation</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr class="workload">
<td>{{if .Link}}<a href="{{.Link}}">{{.ID}}</a>{{else}}{{.ID}}{{end}}<br><small>{{.Location}}</small></td>
<td>{{.Replicas}}</td>
{{- range .Cells}}
{{if .OK}}<td class="ok">✓ {{.Cost}} <small>{{.Detail}}</small></td>{{else}}<td class="no">✗ {{.Why}}</td>{{end}}
{{- end}}
<td>{{.Recommendation}}{{with .Levers}}<ul class="levers">{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}</td>
</tr>
{{- end}}
</tbody>
</table>
</body>
</html>
`))
