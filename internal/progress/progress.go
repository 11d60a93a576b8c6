// Package progress shows a long operation while it runs: in a terminal, a
// live view redrawn in place (bubbletea), with a progress bar and the
// time things have taken; anywhere else, plain timestamped lines, one per
// change, for logs and scripts. The caller polls and describes what it
// sees as a Frame; Watch draws it until the poll says the operation is
// over, or the user stops watching (Ctrl-C), which never stops the
// operation itself.
package progress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"k8s.io/utils/clock"
)

// Frame is what an operation looks like at one moment.
type Frame struct {
	// Title says what is watched, e.g. "upgrade of node group web".
	Title string
	// Status is the resource's or the update's status word (ACTIVE,
	// InProgress, ...), Phase an update's phase.
	Status, Phase string
	// Done of Total is the progress bar's (Total 0: no bar), Unit what it
	// counts ("nodes replaced").
	Done, Total int
	Unit        string
	// Items are details, one a line: "pods evicted: 4", a drain in
	// progress, what blocks it.
	Items []Item
}

// Item is a line of detail; with Since set it ends in how long since
// then ("3m12s"), and with Of as well in "3m12s of 15m0s".
type Item struct {
	Text   string
	Indent int
	Since  time.Time
	Of     time.Duration
}

// Line is the item as of now.
func (it Item) Line(now time.Time) string {
	s := strings.Repeat("  ", it.Indent) + it.Text
	if !it.Since.IsZero() {
		s += ", " + round(now.Sub(it.Since)).String()
		if it.Of > 0 {
			s += " of " + round(it.Of).String()
		}
	}
	return s
}

// key is what makes a frame different from another for a reader of
// plain lines: everything but the clocks that run.
func (f Frame) key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%s|%d/%d %s", f.Title, f.Status, f.Phase, f.Done, f.Total, f.Unit)
	for _, it := range f.Items {
		b.WriteString("|" + it.Text)
	}
	return b.String()
}

// summary is the frame on one line.
func (f Frame) summary(now time.Time) string {
	parts := []string{}
	if f.Status != "" {
		parts = append(parts, f.Status)
	}
	if f.Phase != "" {
		parts = append(parts, "phase "+f.Phase)
	}
	if f.Total > 0 {
		parts = append(parts, fmt.Sprintf("%d/%d %s", f.Done, f.Total, f.Unit))
	}
	for _, it := range f.Items {
		parts = append(parts, strings.TrimSpace(it.Line(now)))
	}
	return strings.Join(parts, "; ")
}

// Outcome is how the operation ended: Err nil for success. Summary is a
// last line for the user (e.g. "node group web is ACTIVE").
type Outcome struct {
	Summary string
	Err     error
}

// Poll looks at the operation: the frame to show, and its outcome once it
// is over (nil while it runs). An error ends the watch.
type Poll func(ctx context.Context) (Frame, *Outcome, error)

// Options are how to watch.
type Options struct {
	// Out is where the view goes; TTY says it is a terminal (redraw in
	// place), In is the terminal's input (for Ctrl-C in raw mode).
	Out io.Writer
	In  io.Reader
	TTY bool
	// Interval is how often to poll (default 1 s).
	Interval time.Duration
	Clock    clock.Clock
}

// ErrStopped is Watch's error when the user stopped watching: the
// operation goes on.
var ErrStopped = errors.New("stopped watching")

// Watch polls until the operation is over and returns its outcome, or
// ErrStopped when ctx is cancelled or the user presses Ctrl-C.
func Watch(ctx context.Context, poll Poll, o Options) (*Outcome, error) {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.TTY {
		return watchTerminal(ctx, poll, o)
	}
	return watchLines(ctx, poll, o)
}

// watchLines writes a timestamped line for each frame unlike the one
// before, and the outcome.
func watchLines(ctx context.Context, poll Poll, o Options) (*Outcome, error) {
	start := o.Clock.Now()
	last := ""
	for {
		f, outcome, err := poll(ctx)
		now := o.Clock.Now()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ErrStopped
			}
			return nil, err
		}
		if k := f.key(); k != last {
			last = k
			fmt.Fprintf(o.Out, "%s %s: %s\n", now.UTC().Format(time.RFC3339), f.Title, f.summary(now))
		}
		if outcome != nil {
			fmt.Fprintf(o.Out, "%s %s (%s)\n", now.UTC().Format(time.RFC3339), outcome.Summary, round(now.Sub(start)))
			return outcome, nil
		}
		select {
		case <-ctx.Done():
			return nil, ErrStopped
		case <-o.Clock.After(o.Interval):
		}
	}
}

// round keeps a duration readable: whole seconds, tenths under 10 s.
func round(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
