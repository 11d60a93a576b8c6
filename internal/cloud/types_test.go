package cloud

import "testing"

func TestSubnetAddresses(t *testing.T) {
	for _, tc := range []struct {
		cidr string
		n    int
		want string // "" for none
	}{
		{"10.0.0.0/20", 0, "10.0.0.4"}, // AWS keeps .0–.3
		{"10.0.16.0/20", 300, "10.0.17.48"},
		{"10.0.0.0/28", 10, "10.0.0.14"}, // the last one: .15 is kept too
		{"10.0.0.0/28", 11, ""},
		{"10.0.0.0/28", -1, ""},
	} {
		got, err := Subnet{ID: "s", CIDR: tc.cidr}.Address(tc.n)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("Address(%s, %d) = %q, %v; want %q", tc.cidr, tc.n, got, err, tc.want)
		}
	}
	if n := (Subnet{CIDR: "10.0.0.0/20"}).Addresses(); n != 4091 {
		t.Errorf("a /20 has %d addresses for instances, want 4091", n)
	}
}

func TestKubeReserved(t *testing.T) {
	for _, tc := range []struct {
		vcpu       int
		maxPods    int // ENIs 1: IPv4 per ENI maxPods-1
		cpu, memMi int64
	}{
		{1, 8, 60, 255 + 11*8},
		{2, 29, 70, 255 + 11*29},
		{4, 58, 80, 255 + 11*58},
		// The fifth core's 0.25 % is 2.5 m: whole millicores, as the AMI's
		// bootstrap computes a range's share.
		{5, 58, 82, 255 + 11*58},
		{16, 234, 110, 255 + 11*234},
		{96, 737, 310, 255 + 11*737},
	} {
		it := InstanceType{VCPU: tc.vcpu, ENIs: 1, IPv4PerENI: tc.maxPods - 1}
		if cpu, mem := it.KubeReserved(); cpu != tc.cpu || mem != tc.memMi {
			t.Errorf("%d vCPU, %d pods: %d m, %d MiB; want %d m, %d MiB", tc.vcpu, tc.maxPods, cpu, mem, tc.cpu, tc.memMi)
		}
	}
}
