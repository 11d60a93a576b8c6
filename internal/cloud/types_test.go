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
