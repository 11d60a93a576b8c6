package sim

import (
	"strings"
	"testing"
	"time"
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
- at: 3m
  slowBoot: {group: web, delay: 3m, duration: 10m}
- at: 4m
  launchFailure: {group: web, instanceType: m5.large, zone: us-east-1a, rate: 0.5, duration: 5m}
`
	sc, err := ParseScenario([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Seed != 7 || len(sc.Steps) != 6 || sc.Steps[1].Interrupt.Count != 2 || sc.Steps[4].SlowBoot.Delay.Duration != 3*time.Minute ||
		sc.Steps[5].LaunchFailure.Rate != 0.5 || sc.Steps[5].LaunchFailure.Zone != "us-east-1a" {
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
		{"steps:\n- at: 1s\n  slowBoot: {group: web, duration: 1m}", "steps[0].slowBoot: group is required, delay and duration must be positive"},
		{"steps:\n- at: 1s\n  slowBoot: {group: web, delay: 1m}", "steps[0].slowBoot"},
		{"steps:\n- at: 1s\n  launchFailure: {group: web, rate: 1.5, duration: 1m}", "steps[0].launchFailure: group is required, rate must be in (0, 1] and duration positive"},
		{"steps:\n- at: 1s\n  launchFailure: {group: web, rate: 0, duration: 1m}", "steps[0].launchFailure"},
		{"steps:\n- at: 1s\n  launchFailure: {rate: 1, duration: 1m}", "steps[0].launchFailure"},
		{"steps:\n- at: 1s\n  launchFailure: {group: web, rate: 1}", "steps[0].launchFailure"},
		{"steps:\n- at: 1s\n  slowBoot: {group: web, delay: 1m, duration: 1m}\n  launchFailure: {group: web, rate: 1, duration: 1m}", "steps[0]: must have exactly one action"},
	} {
		if _, err := ParseScenario([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.in, err, tc.want)
		}
	}
}
