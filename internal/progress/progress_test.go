package progress

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/progress"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	clocktesting "k8s.io/utils/clock/testing"
)

var t0 = time.Date(2026, 12, 2, 18, 0, 0, 0, time.UTC)

// script answers frames in order, the last with the outcome.
func script(frames []Frame, outcome *Outcome) Poll {
	i := 0
	return func(context.Context) (Frame, *Outcome, error) {
		f := frames[i]
		i++
		if i == len(frames) {
			return f, outcome, nil
		}
		return f, nil, nil
	}
}

// stepper advances the fake clock whenever the watch waits on it.
func stepper(ctx context.Context, clock *clocktesting.FakeClock) {
	for ctx.Err() == nil {
		if clock.HasWaiters() {
			clock.Step(time.Second)
		}
		runtime.Gosched()
	}
}

func TestWatchLinesOnePerChange(t *testing.T) {
	clock := clocktesting.NewFakeClock(t0)
	drainStart := t0
	blocked := Item{Text: "pod shop/web-7c9 blocked by PodDisruptionBudget shop/web (0 disruptions allowed)", Indent: 1, Since: drainStart, Of: 15 * time.Minute}
	frames := []Frame{
		{Title: "node group web upgrade u1", Status: "InProgress", Phase: "Setup"},
		{Title: "node group web upgrade u1", Status: "InProgress", Phase: "Upgrade", Done: 0, Total: 2, Unit: "old nodes replaced", Items: []Item{blocked}},
		// The same frame a second later: the clock in the item runs, but
		// nothing changed for a reader of lines.
		{Title: "node group web upgrade u1", Status: "InProgress", Phase: "Upgrade", Done: 0, Total: 2, Unit: "old nodes replaced", Items: []Item{blocked}},
		{Title: "node group web upgrade u1", Status: "InProgress", Phase: "Upgrade", Done: 1, Total: 2, Unit: "old nodes replaced"},
		{Title: "node group web upgrade u1", Status: "Successful", Phase: "ScaleDown", Done: 2, Total: 2, Unit: "old nodes replaced"},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go stepper(ctx, clock)
	var out bytes.Buffer
	outcome, err := Watch(ctx, script(frames, &Outcome{Summary: "update u1 is Successful"}), Options{Out: &out, Clock: clock})
	if err != nil || outcome == nil || outcome.Summary != "update u1 is Successful" {
		t.Fatalf("Watch = %v, %v", outcome, err)
	}
	want := []string{
		"2026-12-02T18:00:00Z node group web upgrade u1: InProgress; phase Setup",
		"2026-12-02T18:00:01Z node group web upgrade u1: InProgress; phase Upgrade; 0/2 old nodes replaced; pod shop/web-7c9 blocked by PodDisruptionBudget shop/web (0 disruptions allowed), 1s of 15m0s",
		"2026-12-02T18:00:03Z node group web upgrade u1: InProgress; phase Upgrade; 1/2 old nodes replaced",
		"2026-12-02T18:00:04Z node group web upgrade u1: Successful; phase ScaleDown; 2/2 old nodes replaced",
		"2026-12-02T18:00:04Z update u1 is Successful (4s)",
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestWatchLinesFailureAndStop(t *testing.T) {
	clock := clocktesting.NewFakeClock(t0)
	failure := errors.New("PodEvictionFailure")
	var out bytes.Buffer
	outcome, err := Watch(context.Background(), script([]Frame{{Title: "x", Status: "Failed"}}, &Outcome{Summary: "update is Failed", Err: failure}), Options{Out: &out, Clock: clock})
	if err != nil || outcome == nil || !errors.Is(outcome.Err, failure) {
		t.Fatalf("Watch = %v, %v; want the outcome's error", outcome, err)
	}

	// A cancelled context (Ctrl-C) stops watching, not the operation.
	ctx, cancel := context.WithCancel(context.Background())
	polls := 0
	poll := func(context.Context) (Frame, *Outcome, error) {
		polls++
		cancel()
		return Frame{Title: "x", Status: "InProgress"}, nil, nil
	}
	if _, err := Watch(ctx, poll, Options{Out: &out, Clock: clock}); !errors.Is(err, ErrStopped) || polls != 1 {
		t.Fatalf("Watch after cancel = %v after %d polls, want ErrStopped after 1", err, polls)
	}
}

func TestTerminalView(t *testing.T) {
	clock := clocktesting.NewFakeClock(t0)
	m := &model{clock: clock, started: t0, now: t0, bar: progress.New(progress.WithWidth(20), progress.WithoutPercentage())}
	if v := m.View(); !strings.Contains(v, "waiting") {
		t.Fatalf("view before the first frame = %q", v)
	}
	clock.Step(3*time.Minute + 12*time.Second)
	m.Update(frameMsg{frame: Frame{Title: "node group web upgrade u1", Status: "InProgress", Phase: "Upgrade", Done: 1, Total: 3, Unit: "old nodes replaced",
		Items: []Item{{Text: "draining node n1 (i-1)"}, {Text: "pod shop/web-7c9 blocked by PodDisruptionBudget shop/web (0 disruptions allowed)", Indent: 1, Since: t0, Of: 15 * time.Minute}}}})
	v := m.View()
	for _, want := range []string{"node group web upgrade u1", "InProgress · phase Upgrade", "elapsed 3m12s", "1/3 old nodes replaced",
		"  draining node n1 (i-1)", "    pod shop/web-7c9 blocked by PodDisruptionBudget shop/web (0 disruptions allowed), 3m12s of 15m0s", "Ctrl-C stops watching"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	// A line longer than the terminal wraps at spaces, indented under
	// its start.
	m.Update(tea.WindowSizeMsg{Width: 60, Height: 20})
	for _, l := range strings.Split(m.View(), "\n") {
		if lipgloss.Width(l) > 60 {
			t.Errorf("a line longer than the terminal's 60 columns: %q", l)
		}
	}
	if v := m.View(); !strings.Contains(v, "\n      ") {
		t.Errorf("no wrapped line indented under its start:\n%s", v)
	}

	// Ctrl-C quits the view and marks the watch stopped.
	if _, cmd := m.Update(keyCtrlC()); cmd == nil || !m.stopped {
		t.Fatalf("Ctrl-C: stopped %v, cmd %v", m.stopped, cmd)
	}
}

func keyCtrlC() tea.Msg { return tea.KeyMsg{Type: tea.KeyCtrlC} }
