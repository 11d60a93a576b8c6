package eksapi

import (
	"cmp"
	"net/url"
	"slices"
	"strings"

	"github.com/kdp-project/kdp/internal/eks/types"
)

// route is one operation's method and path, split into segments: a
// literal, or a {label} (label set).
type route struct {
	op       *types.Operation
	segments []segment
}

type segment struct {
	literal string
	label   string
}

// routes are every operation of the model, by method and number of path
// segments, the more literal first: the first that matches wins, so a
// literal segment beats a label at the same place.
type routes map[string]map[int][]route

func newRoutes(ops []types.Operation) routes {
	rs := routes{}
	for i := range ops {
		op := &ops[i]
		path, _, _ := strings.Cut(op.URI, "?")
		var segs []segment
		for _, s := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
			if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
				segs = append(segs, segment{label: strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")})
			} else {
				segs = append(segs, segment{literal: s})
			}
		}
		if rs[op.Method] == nil {
			rs[op.Method] = map[int][]route{}
		}
		rs[op.Method][len(segs)] = append(rs[op.Method][len(segs)], route{op: op, segments: segs})
	}
	for _, byLen := range rs {
		for _, list := range byLen {
			slices.SortStableFunc(list, func(a, b route) int {
				for i := range a.segments {
					al, bl := a.segments[i].label == "", b.segments[i].label == ""
					if al != bl {
						if al {
							return -1
						}
						return 1
					}
				}
				return cmp.Compare(a.op.Name, b.op.Name)
			})
		}
	}
	return rs
}

// match finds the operation of method and the escaped path (as the client
// sent it), with its labels unescaped. A label is never empty, and one
// that is not a valid escape does not match.
func (rs routes) match(method, escapedPath string) (*types.Operation, map[string]string) {
	parts := strings.Split(strings.TrimPrefix(escapedPath, "/"), "/")
	byLen := rs[method]
	if byLen == nil || !strings.HasPrefix(escapedPath, "/") {
		return nil, nil
	}
next:
	for _, r := range byLen[len(parts)] {
		for i, s := range r.segments {
			if s.label == "" {
				if parts[i] != s.literal {
					continue next
				}
			} else if parts[i] == "" {
				continue next
			}
		}
		var labels map[string]string
		for i, s := range r.segments {
			if s.label == "" {
				continue
			}
			v, err := url.PathUnescape(parts[i])
			if err != nil {
				continue next
			}
			if labels == nil {
				labels = make(map[string]string, 2)
			}
			labels[s.label] = v
		}
		return r.op, labels
	}
	return nil, nil
}
