package matching

import "testing"

func TestWildcard(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"prod", "prod", true},
		{"prod", "prod2", false},
		{"prod", "pro", false},
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything", true},
		{"**", "x", true},
		{"prod-*", "prod-", true},
		{"prod-*", "prod-web", true},
		{"prod-*", "prod", false},
		{"prod-*", "staging-web", false},
		{"*-dev", "web-dev", true},
		{"*-dev", "-dev", true},
		{"*-dev", "web-dev-2", false},
		{"a*z", "az", true},
		{"a*z", "abcz", true},
		{"a*z", "abczy", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"*ab*ab*", "xabyab", true},
		{"?ab", "xab", true},
		{"?ab", "ab", false},
		{"?ab", "xxab", false},
		{"a?c", "abc", true},
		{"a??", "abc", true},
		{"a??", "ab", false},
		{"??*", "a", false},
		{"?*?", "ab", true},
		{"app.kubernetes.io/name", "app.kubernetes.io/name", true},
		{"app.kubernetes.io/name", "appXkubernetesXio/name", false}, // `.` is literal
		{"a+b", "aab", false}, // `+` is literal
		{"a+b", "a+b", true},
		{"[ab]", "a", false}, // `[` is literal, no class
		{"[ab]", "[ab]", true},
		{`a\*`, `a\bc`, true},        // `\` escapes nothing
		{"team/*", "team/a/b", true}, // `*` crosses `/`
		{"*/name", "app.kubernetes.io/name", true},
		{"*", "*", true},
		{"a*", "*", false},
		{"x", "*", false},
	} {
		if got := Wildcard(c.pattern, c.s); got != c.want {
			t.Errorf("Wildcard(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

func TestWildcardAllocatesNothing(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { Wildcard("*-web-??-*", "prod-web-01-blue") }); n != 0 {
		t.Fatalf("Wildcard allocates %v times a call", n)
	}
}
