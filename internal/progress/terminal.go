package progress

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/progress"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"k8s.io/utils/clock"
)

// watchTerminal draws the frames in place with bubbletea, the clock of
// the elapsed time ticking each second, until the outcome, an error, or
// Ctrl-C (q too).
func watchTerminal(ctx context.Context, poll Poll, o Options) (*Outcome, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := &model{clock: o.Clock, started: o.Clock.Now(), now: o.Clock.Now(),
		bar: progress.New(progress.WithDefaultGradient(), progress.WithWidth(32), progress.WithoutPercentage())}
	opts := []tea.ProgramOption{tea.WithOutput(o.Out), tea.WithContext(ctx)}
	if o.In != nil {
		opts = append(opts, tea.WithInput(o.In))
	} else {
		opts = append(opts, tea.WithInput(nil))
	}
	p := tea.NewProgram(m, opts...)
	polled := make(chan struct{})
	defer func() { cancel(); <-polled }() // no poll outlives the watch
	go func() {
		defer close(polled)
		for {
			f, outcome, err := poll(ctx)
			if ctx.Err() != nil {
				return
			}
			p.Send(frameMsg{frame: f, outcome: outcome, err: err})
			if outcome != nil || err != nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-o.Clock.After(o.Interval):
			}
		}
	}()
	_, err := p.Run()
	switch {
	case m.outcome != nil:
		fmt.Fprintf(o.Out, "%s (%s)\n", m.outcome.Summary, round(m.now.Sub(m.started)))
		return m.outcome, nil
	case m.err != nil:
		return nil, m.err
	case m.stopped, errors.Is(err, tea.ErrProgramKilled), ctx.Err() != nil:
		return nil, ErrStopped
	case err != nil:
		return nil, err
	}
	return nil, ErrStopped
}

type frameMsg struct {
	frame   Frame
	outcome *Outcome
	err     error
}

type tickMsg struct{}

// model is the live view: the last frame, and how long it has been.
type model struct {
	clock        clock.Clock
	started, now time.Time
	frame        Frame
	seen         bool
	bar          progress.Model
	outcome      *Outcome
	err          error
	stopped      bool
	// width is the terminal's (0 until it is known).
	width int
}

// wrap breaks a line longer than the terminal at spaces, its next lines
// indented by indent (bubbletea would cut it).
func (m *model) wrap(line string, indent int) string {
	if m.width <= indent+20 || lipgloss.Width(line) <= m.width {
		return line
	}
	var lines []string
	cur := ""
	for _, word := range strings.Fields(line) {
		switch {
		case cur == "":
			cur = strings.Repeat(" ", len(line)-len(strings.TrimLeft(line, " "))) + word
		case lipgloss.Width(cur)+1+lipgloss.Width(word) > m.width:
			lines = append(lines, cur)
			cur = strings.Repeat(" ", indent) + word
		default:
			cur += " " + word
		}
	}
	return strings.Join(append(lines, cur), "\n")
}

func tick() tea.Cmd { return tea.Tick(time.Second, func(time.Time) tea.Msg { return tickMsg{} }) }

func (m *model) Init() tea.Cmd { return tick() }

func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		switch msg.String() {
		case "ctrl+c", "q":
			m.stopped = true
			return m, tea.Quit
		}
	case tickMsg:
		m.now = m.clock.Now()
		return m, tick()
	case frameMsg:
		m.now = m.clock.Now()
		m.frame, m.seen = msg.frame, true
		if msg.outcome != nil || msg.err != nil {
			m.outcome, m.err = msg.outcome, msg.err
			return m, tea.Quit
		}
	case tea.WindowSizeMsg:
		m.width = msg.Width
		m.bar.Width = max(10, min(40, msg.Width-30))
	}
	return m, nil
}

var (
	titleStyle = lipgloss.NewStyle().Bold(true)
	dimStyle   = lipgloss.NewStyle().Faint(true)
)

func (m *model) View() string {
	if !m.seen {
		return "waiting for the first answer…\n"
	}
	f := m.frame
	var b strings.Builder
	head := f.Title
	if f.Status != "" {
		head += "  " + f.Status
	}
	if f.Phase != "" {
		head += " · phase " + f.Phase
	}
	b.WriteString(m.wrap(titleStyle.Render(head)+"  "+dimStyle.Render("elapsed "+round(m.now.Sub(m.started)).String()), 2) + "\n")
	if f.Total > 0 {
		b.WriteString("  " + m.bar.ViewAs(float64(f.Done)/float64(f.Total)) + fmt.Sprintf(" %d/%d %s\n", f.Done, f.Total, f.Unit))
	}
	for _, it := range f.Items {
		b.WriteString(m.wrap("  "+it.Line(m.now), 2*it.Indent+4) + "\n")
	}
	if m.outcome == nil && m.err == nil && !m.stopped {
		b.WriteString(dimStyle.Render("  Ctrl-C stops watching; the operation goes on") + "\n")
	}
	return b.String()
}
