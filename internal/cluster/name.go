package cluster

import (
	"fmt"
	"regexp"
)

// NameMaxLength and namePattern are EKS's rules for a cluster's name, which
// kdp up's --cluster-name follows too: a cluster created through the EKS API
// runs as a kdp up of that name, so every name CreateCluster accepts must
// start.
const NameMaxLength = 100

var namePattern = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9\-_]*$`)

// NameError is the rule a cluster's name breaks, or "".
func NameError(name string) string {
	switch {
	case name == "":
		return "is required"
	case len(name) > NameMaxLength:
		return fmt.Sprintf("must be at most %d characters, not %d", NameMaxLength, len(name))
	case !namePattern.MatchString(name):
		return "must begin with a letter or digit and have only letters, digits, hyphens and underscores"
	}
	return ""
}
