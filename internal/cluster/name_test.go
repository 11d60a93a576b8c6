package cluster

import (
	"strings"
	"testing"
)

func TestNameError(t *testing.T) {
	for _, tc := range []struct {
		name string
		want string // "" if valid
	}{
		{"kdp", ""},
		{"Dev_1", ""},  // EKS allows capitals and underscores
		{"9lives", ""}, // and a leading digit
		{strings.Repeat("a", NameMaxLength), ""},
		{"", "is required"},
		{strings.Repeat("a", NameMaxLength+1), "must be at most 100 characters, not 101"},
		{"-dev", "must begin with a letter or digit"},
		{"_dev", "must begin with a letter or digit"},
		{"my.cluster", "only letters, digits, hyphens and underscores"},
		{"my cluster", "only letters, digits, hyphens and underscores"},
		{"dév", "only letters, digits, hyphens and underscores"},
	} {
		got := NameError(tc.name)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("NameError(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}
