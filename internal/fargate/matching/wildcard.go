// Package matching decides, as EKS's Fargate webhook does, which Fargate
// profile a pod belongs to when it is created: the wildcard patterns of a
// profile's selectors, the order among several matching profiles, the
// label that pins a profile, and the pods that are never placed on
// Fargate. It is pure, so the pod admission webhook and the Fargate
// scheduler answer "which profile?" the same way.
package matching

// Wildcard reports whether s matches pattern as EKS matches a selector's
// namespace, label key or label value: `*` stands for any run of
// characters (none too) and `?` for exactly one; every other character,
// `.`, `[`, `\` and `/` included, stands for itself, and the whole of s
// must match. An empty pattern matches only the empty string.
//
// path.Match is not this: it gives `[` and `\` meanings and its `*` stops
// at `/`, which label keys contain. The matcher walks bytes: namespaces,
// label keys and label values are ASCII (the API server refuses others),
// so a byte is a character. It backtracks only to the last `*`, so it
// runs in O(len(pattern)·len(s)) at worst and allocates nothing.
func Wildcard(pattern, s string) bool {
	p, i := 0, 0
	star, resume := -1, 0 // the last `*` seen, and where in s its run ends
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]) && pattern[p] != '*':
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, resume = p, i
			p++
		case star >= 0:
			// What followed the last `*` failed: let the `*` take one more
			// character and try again from there.
			resume++
			p, i = star+1, resume
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// hasWildcard reports whether a pattern is more than a literal.
func hasWildcard(pattern string) bool {
	for i := 0; i < len(pattern); i++ {
		if pattern[i] == '*' || pattern[i] == '?' {
			return true
		}
	}
	return false
}
