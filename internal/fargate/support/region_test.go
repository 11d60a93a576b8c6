package support

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestZoneLocation(t *testing.T) {
	for zone, want := range map[string]Location{
		"us-east-1a":                   InRegion,
		"use1-az1":                     InRegion,
		"eu-central-1c":                InRegion,
		"us-east-1-bos-1a":             LocalZone,
		"us-west-2-lax-1b":             LocalZone,
		"us-gov-west-1-dfw-1a":         LocalZone,
		"us-east-1-wl1-bos-wlz-1":      Wavelength,
		"ap-northeast-1-wl1-nrt-wlz-1": Wavelength,
		"":                             InRegion,
	} {
		if got := ZoneLocation(zone); got != want {
			t.Errorf("ZoneLocation(%q) = %v, want %v", zone, got, want)
		}
	}
}

func TestCheckOutsideRegion(t *testing.T) {
	runChecks(t, nil, []checkCase{
		{name: "a zone in the region", pod: newPod(selector("topology.kubernetes.io/zone", "us-east-1a"))},
		{
			name:  "a Local Zone node selector",
			pod:   newPod(selector("topology.kubernetes.io/zone", "us-east-1-bos-1a")),
			want:  "zones outside the region not supported: topology.kubernetes.io/zone=us-east-1-bos-1a (Local Zone)",
			field: []string{"spec.nodeSelector[topology.kubernetes.io/zone]"},
		},
		{
			name:  "a Wavelength node selector, beta label",
			pod:   newPod(selector("failure-domain.beta.kubernetes.io/zone", "us-east-1-wl1-bos-wlz-1")),
			want:  "zones outside the region not supported: failure-domain.beta.kubernetes.io/zone=us-east-1-wl1-bos-wlz-1 (Wavelength Zone)",
			field: []string{"spec.nodeSelector[failure-domain.beta.kubernetes.io/zone]"},
		},
		{name: "a Local Zone value on another label", pod: newPod(selector("team", "us-east-1-bos-1a"))},
		{
			name:  "required affinity for Local Zones and Wavelength only",
			pod:   newPod(required(term(expr("topology.kubernetes.io/zone", corev1.NodeSelectorOpIn, "us-east-1-bos-1a", "us-east-1-wl1-bos-wlz-1")))),
			want:  "zones outside the region not supported: topology.kubernetes.io/zone in [us-east-1-bos-1a us-east-1-wl1-bos-wlz-1] (Wavelength Zone)",
			field: []string{"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0]"},
		},
		{name: "required affinity for a Local Zone or an Availability Zone", pod: newPod(required(term(expr("topology.kubernetes.io/zone", corev1.NodeSelectorOpIn, "us-east-1-bos-1a", "us-east-1a"))))},
		{name: "required affinity: another term is in the region", pod: newPod(required(
			term(expr("topology.kubernetes.io/zone", corev1.NodeSelectorOpIn, "us-east-1-bos-1a")),
			term(expr("topology.kubernetes.io/zone", corev1.NodeSelectorOpIn, "us-east-1b")),
		))},
		{name: "required affinity away from a Local Zone", pod: newPod(required(term(expr("topology.kubernetes.io/zone", corev1.NodeSelectorOpNotIn, "us-east-1-bos-1a"))))},
	})
}

func TestOutsideRegionReasonsCarryTheirLocation(t *testing.T) {
	reasons, err := Check(newPod(selector("topology.kubernetes.io/zone", "us-west-2-lax-1a")), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(reasons) != 1 || reasons[0].Kind != KindOutsideRegion || reasons[0].Location != LocalZone {
		t.Fatalf("reasons %+v, want one KindOutsideRegion in a Local Zone", reasons)
	}
}
