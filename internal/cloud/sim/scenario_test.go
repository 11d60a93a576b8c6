package sim

import (
	"strings"
	"testing"
)

func TestParseScenario(t *testing.T) {
	good := `
seed: 7
steps:
- at: 0s
  capacity: {instanceType: m5.large, zone: us-east-1a, available: 0}
- at: 10s
  interrupt: {group: web, count: 2}
- at: 1m
  spotStorm: {group: web, ratePerMinute: 6, duration: 1m}
- at: 2m
  zoneOutage: {zone: us-east-1b}
`
	sc, err := ParseScenario([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Seed != 7 || len(sc.Steps) != 4 || sc.Steps[1].Interrupt.Count != 2 {
		t.Errorf("parsed %+v", sc)
	}
	for _, tc := range []struct{ in, want string }{
		{"steps: []", "steps: at least one step is required"},
		{"steps:\n- at: 1s", "steps[0]: must have exactly one action"},
		{"steps:\n- at: 1s\n  interrupt: {group: web, count: 1}\n  rebalance: {group: web, count: 1}", "steps[0]: must have exactly one action"},
		{"steps:\n- at: 1s\n  interrupt: {group: web, count: 0}", "steps[0].interrupt: group is required and count must be at least 1"},
		{"steps:\n- at: 1s\n  spotStorm: {group: web, ratePerMinute: 0, duration: 1m}", "steps[0].spotStorm"},
		{"steps:\n- at: 1s\n  capacity: {instanceType: m5.large, zone: us-east-1a, available: -2}", "steps[0].capacity"},
		{"steps:\n- at: 1s\n  explode: {}", "unknown field"},
	} {
		if _, err := ParseScenario([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.in, err, tc.want)
		}
	}
}
