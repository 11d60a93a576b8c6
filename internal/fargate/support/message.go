package support

import (
	"strings"
)

// MessagePrefix starts every message EKS's fargate-scheduler writes for a pod
// it will not run.
const MessagePrefix = "Pod not supported on Fargate: "

// Message renders reasons as the one FailedScheduling message EKS writes,
// e.g. "Pod not supported on Fargate: fields not supported: HostNetwork,
// invalid SecurityContext fields: Privileged, port contains HostIP or
// HostPort". It lists every reason, grouped by kind in Kind's order and in
// the reasons' order within a kind, each detail once. No reasons, no
// message: "".
func Message(reasons []Reason) string {
	if len(reasons) == 0 {
		return ""
	}
	return MessagePrefix + render(reasons)
}

// part is one comma-separated part of a message: a prefix and the details
// of its kinds. A part with a fixed text says it once however many reasons
// it has (several host ports are still "port contains HostIP or HostPort").
type part struct {
	prefix string
	kinds  []Kind
	fixed  string
}

// parts is the order of a message. Where EKS's wording is known (the first
// three, and the volume ones) it is EKS's; the rest follows its style.
var parts = []part{
	{prefix: "fields not supported: ", kinds: []Kind{KindHostNamespace}},
	{prefix: "invalid SecurityContext fields: ", kinds: []Kind{KindPrivileged, KindCapability}},
	{kinds: []Kind{KindHostPort}, fixed: "port contains HostIP or HostPort"},
	{prefix: "volumes not supported: ", kinds: []Kind{KindVolume, KindPersistentVolume}},
	{prefix: "resources not supported: ", kinds: []Kind{KindResource}},
	{prefix: "node selector not supported: ", kinds: []Kind{KindNodeSelector}},
	{prefix: "node affinity not supported: ", kinds: []Kind{KindNodeAffinity}},
	{prefix: "zones outside the region not supported: ", kinds: []Kind{KindOutsideRegion}},
	{kinds: []Kind{KindDaemonSet}, fixed: "DaemonSet pods are not supported"},
}

// render is a message without its prefix.
func render(reasons []Reason) string {
	var out []string
	for _, p := range parts {
		details := detailsOf(reasons, p.kinds)
		switch {
		case len(details) == 0:
		case p.fixed != "":
			out = append(out, p.fixed)
		default:
			out = append(out, p.prefix+strings.Join(details, ", "))
		}
	}
	return strings.Join(out, ", ")
}

// detailsOf returns the details of the reasons of the given kinds, each
// once: Privileged in two containers is one "Privileged". Kinds come in the
// order given (Privileged before capabilities; unsupported volume types
// before PVCs), and within a kind the reasons' order is kept.
func detailsOf(reasons []Reason, kinds []Kind) []string {
	var out []string
	for _, k := range kinds {
		var caps []string
		seen := map[string]bool{}
		for _, r := range reasons {
			if r.Kind != k || seen[r.Detail] {
				continue
			}
			seen[r.Detail] = true
			if k == KindCapability {
				caps = append(caps, r.Detail)
				continue
			}
			out = append(out, r.Detail)
		}
		// EKS says "Capabilities added: CAP_CHOWN": the capabilities are
		// one field of the SecurityContext, listed together.
		if len(caps) > 0 {
			out = append(out, "Capabilities added: "+strings.Join(caps, ", "))
		}
	}
	return out
}
