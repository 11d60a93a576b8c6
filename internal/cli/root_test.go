package cli

import "testing"

// TestTypoedSubcommands: a subcommand one or two edits away from one is
// suggested, in every command group.
func TestTypoedSubcommands(t *testing.T) {
	for _, c := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"nodegroup", "delte", "web"}, `kdp nodegroup: unknown command "delte" for "kdp nodegroup"; did you mean delete?` + "\n"},
		{[]string{"fargate-profile", "lst"}, `kdp fargate-profile: unknown command "lst" for "kdp fargate-profile"; did you mean list?` + "\n"},
		{[]string{"cluster", "desribe", "dev"}, `kdp cluster: unknown command "desribe" for "kdp cluster"; did you mean describe?` + "\n"},
		{[]string{"update", "lsit"}, `kdp update: unknown command "lsit" for "kdp update"; did you mean list?` + "\n"},
	} {
		code, stdout, stderr := runKdp(t, c.args...)
		if code != 1 || stdout != "" || stderr != c.stderr {
			t.Errorf("kdp %v: exit %d, stdout %q, stderr %q; want 1 and %q", c.args, code, stdout, stderr, c.stderr)
		}
	}
}
