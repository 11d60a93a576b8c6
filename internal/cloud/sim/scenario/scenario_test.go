package scenario

import (
	"fmt"
	"slices"
	"testing"
)

func TestPlan(t *testing.T) {
	sc, err := Parse([]byte(`
seed: 3
steps:
- {at: 2m, slowBoot: {group: g, delay: 1m, duration: 1m}}
- {at: 0s, spotStorm: {group: g, ratePerMinute: 3, duration: 1m}}
- {at: 20s, interrupt: {group: g, count: 2}}
- {at: 1m, launchFailure: {group: g, rate: 0.5, duration: 2m}}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range sc.Plan() {
		got = append(got, fmt.Sprintf("%s %d %s %s×%d", a.At, a.Step, a.Kind, a.Pick.Group, a.Pick.Count))
	}
	want := []string{
		"0s 1 spotStorm g×1", // a storm of 3 a minute: one at once, then every 20 s
		"20s 1 spotStorm g×1",
		"20s 2 interrupt g×2", // at the same time: in step order
		"40s 1 spotStorm g×1",
		"1m0s 3 launchFailure g×0",
		"2m0s 0 slowBoot g×0",
		"3m0s 0 slowBootEnd g×0", // each window ends where it reports
		"3m0s 3 launchFailureEnd g×0",
	}
	if !slices.Equal(got, want) {
		t.Errorf("plan\n%v\nwant\n%v", got, want)
	}
	// An action draws the same whenever it runs; another action, otherwise.
	plan := sc.Plan()
	if a, b := sc.Rand(plan[2]).Uint64(), sc.Rand(plan[2]).Uint64(); a != b {
		t.Error("an action's draws differ between runs")
	}
	if a, b := sc.Rand(plan[1]).Uint64(), sc.Rand(plan[2]).Uint64(); a == b {
		t.Error("two actions draw the same")
	}
}
