package sim

import (
	"slices"
	"testing"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim/catalog"
)

// TestChooseInstanceType: in the zone it launches in (the one with the
// fewest of the group's instances), an on-demand group takes its instance
// types in order (prioritized) and a spot group the one with the lowest
// spot price there (price-capacity-optimized), whatever their order; either
// skips a type the zone has no capacity for.
func TestChooseInstanceType(t *testing.T) {
	cat, err := catalog.New("us-east-1", 3)
	if err != nil {
		t.Fatal(err)
	}
	c := &Cloud{catalog: cat}
	zones := cat.Zones()
	price := func(instanceType, zone string) float64 { p, _ := cat.SpotPrice(instanceType, zone); return p }
	// The catalogue's prices that make the cases below mean something:
	// among same-size types the cheapest is not the first listed, and
	// across these two which is cheaper depends on the zone.
	if !(price("t3.large", zones[0]) < price("m6i.large", zones[0]) && price("m6i.large", zones[0]) < price("m5.large", zones[0])) {
		t.Fatalf("in %s spot prices are not t3.large < m6i.large < m5.large", zones[0])
	}
	if !(price("m6i.large", zones[0]) < price("c6i.large", zones[0]) && price("c6i.large", zones[2]) < price("m6i.large", zones[2])) {
		t.Fatalf("c6i.large is not dearer than m6i.large in %s and cheaper in %s", zones[0], zones[2])
	}
	var subnets []string
	for _, s := range cat.PrivateSubnets() {
		subnets = append(subnets, s.ID)
	}
	sameSize := []string{"m5.large", "m6i.large", "t3.large"}
	for _, tc := range []struct {
		name     string
		capacity string
		types    []string
		perZone  map[string]int
		limits   map[string]int // capacityKey → instances the zone holds
		wantZone string
		wantType string
	}{
		{"on-demand: the first type", cloud.OnDemand, sameSize, nil, nil, zones[0], "m5.large"},
		{"spot: the cheapest type, not the first", cloud.Spot, sameSize, nil, nil, zones[0], "t3.large"},
		{"spot: the cheapest in the zone with the fewest instances", cloud.Spot, []string{"m6i.large", "c6i.large"},
			map[string]int{zones[0]: 1, zones[1]: 1}, nil, zones[2], "c6i.large"},
		{"spot: the same types elsewhere", cloud.Spot, []string{"c6i.large", "m6i.large"}, nil, nil, zones[0], "m6i.large"},
		{"spot: the cheapest without capacity is skipped", cloud.Spot, sameSize, nil,
			map[string]int{capacityKey("t3.large", zones[0]): 0}, zones[0], "m6i.large"},
		{"on-demand: the first without capacity is skipped", cloud.OnDemand, sameSize, nil,
			map[string]int{capacityKey("m5.large", zones[0]): 0}, zones[0], "m6i.large"},
		{"spot: no type has capacity in the zone: the next zone", cloud.Spot, []string{"m5.large", "t3.large"}, nil,
			map[string]int{capacityKey("m5.large", zones[0]): 0, capacityKey("t3.large", zones[0]): 0}, zones[1], "t3.large"},
	} {
		g := &group{Name: "g", CapacityType: tc.capacity, SubnetIDs: subnets, InstanceTypes: tc.types}
		p := &pool{limits: tc.limits, live: map[string]int{}}
		subnet, got, err := c.choose(g, slices.Clone(tc.types), tc.perZone, "", p)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if subnet.Zone != tc.wantZone || got != tc.wantType {
			t.Errorf("%s: %s in %s, want %s in %s", tc.name, got, subnet.Zone, tc.wantType, tc.wantZone)
		}
	}
}
