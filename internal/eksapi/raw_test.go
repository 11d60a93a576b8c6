package eksapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kdp-project/kdp/internal/eks"
	"github.com/kdp-project/kdp/internal/eks/types"
)

// Test_Unit_RawAuthFailures: requests without a valid signature get 403
// with the codes AWS clients know, on any path, and never reach the
// Service.
func Test_Unit_RawAuthFailures(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		name, path, code string
		header           []string
	}{
		{"unsigned", "/clusters", "MissingAuthenticationTokenException", nil},
		{"unsigned, unknown path", "/no/such/thing", "MissingAuthenticationTokenException", nil},
		{"garbage", "/clusters", "IncompleteSignatureException", []string{"Authorization", "AWS4-HMAC-SHA256 garbage"}},
		{"unknown key", "/clusters", "", []string{"Authorization", "AWS4-HMAC-SHA256 Credential=AKIAUNKNOWN/20261202/us-west-2/eks/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
			"X-Amz-Date", "20261202T000000Z"}},
	} {
		r := h.do(http.MethodGet, tc.path, nil, false, tc.header...)
		if r.status != http.StatusForbidden || (tc.code != "" && r.str("__type") != tc.code) || r.str("message") == "" {
			t.Errorf("%s: %d %s", tc.name, r.status, r.raw)
		}
	}
	if h.api.input("ListClusters") != nil {
		t.Error("an unauthenticated request reached the Service")
	}
	recs := h.audit.records(t)
	if len(recs) != 4 || recs[1].Operation != "Unknown" || recs[3].AccessKeyID != "AKIAUNKNOWN" || recs[0].ErrorCode != "MissingAuthenticationTokenException" {
		t.Errorf("audit: %+v", recs)
	}
}

// Test_Unit_RawUnknownOperation: a method and path of no operation gets a
// restJson1 404, never an HTML page.
func Test_Unit_RawUnknownOperation(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/"},
		{http.MethodGet, "/no/such/thing"},
		{http.MethodPatch, "/clusters"},
		{http.MethodGet, "/clusters/"},
		{http.MethodGet, "/clusters//node-groups"},
		{http.MethodPut, "/clusters/kdp/node-groups/web"},
	} {
		r := h.do(tc.method, tc.path, nil, true)
		if r.status != http.StatusNotFound || r.str("__type") != CodeUnknownOperation || !strings.Contains(r.str("message"), tc.method+" "+tc.path) {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, r.status, r.raw)
		}
	}
}

// Test_Unit_RawBody: an oversized body (413), malformed JSON and members
// of the wrong type (the operation's InvalidParameterException, or
// BadRequestException), every constraint broken at once, and {} for an
// output the Service leaves nil.
func Test_Unit_RawBody(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.MaxBodyBytes = 1024 })
	big := []byte(`{"tags":{"a":"` + strings.Repeat("x", 2000) + `"}}`)
	if r := h.do(http.MethodPost, "/clusters/kdp/node-groups", big, true); r.status != http.StatusRequestEntityTooLarge || r.str("__type") != CodeRequestEntityTooLarge {
		t.Errorf("oversized: %d %s", r.status, r.raw)
	}
	// Not even authentication is tried: the signature covers the body.
	if r := h.do(http.MethodPost, "/clusters/kdp/node-groups", big, false); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized, unsigned: %d %s", r.status, r.raw)
	}

	for _, tc := range []struct {
		path, body, code, message string
	}{
		{"/clusters/kdp/node-groups", `{"nodegroupName": "web",`, eks.CodeInvalidParameter, "the request body is not valid JSON"},
		{"/clusters/kdp/node-groups", `[1, 2]`, eks.CodeInvalidParameter, "the request body must be a JSON object, not a JSON array"},
		{"/clusters/kdp/node-groups", `{"scalingConfig": {"minSize": "two"}}`, eks.CodeInvalidParameter, "the request body's member 'scalingConfig.minSize' must be an integer of 32 bits, not a JSON string"},
		{"/tags/arn%3Aaws%3Aeks%3Aus-west-2%3A1%3Acluster%2Fkdp", `{"tags": 1}`, eks.CodeBadRequest, "the request body's member 'tags' must be an object, not a JSON number"},
		{"/clusters/kdp/node-groups", `{"nodegroupName": "web", "nodeRole": "r", "subnets": ["s"], "unknownMember": {"x": [1]}}`, "", ""},
		{"/clusters/kdp/node-groups", `{"subnets": [], "scalingConfig": {"minSize": -1, "maxSize": 0}, "taints": [{"key": "", "value": "v"}, {"key": "` + strings.Repeat("k", 64) + `"}], "tags": {}}`,
			eks.CodeInvalidParameter, "7 validation errors detected: Value null at 'nodeRole' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'nodegroupName' failed to satisfy constraint: Member must not be null; " +
				"Value '0' at 'scalingConfig.maxSize' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
				"Value '-1' at 'scalingConfig.minSize' failed to satisfy constraint: Member must have value greater than or equal to 0; " +
				"Value '{}' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
				"Value '' at 'taints.1.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
				"Value '" + strings.Repeat("k", 64) + "' at 'taints.2.member.key' failed to satisfy constraint: Member must have length less than or equal to 63"},
	} {
		r := h.do(http.MethodPost, tc.path, []byte(tc.body), true)
		if tc.code == "" {
			if r.status != 200 {
				t.Errorf("%s: %d %s", tc.body, r.status, r.raw)
			}
			continue
		}
		if r.status != 400 || r.str("__type") != tc.code || !strings.HasPrefix(r.str("message"), tc.message) {
			t.Errorf("%s:\n got %d %s\nwant %s %s", tc.body, r.status, r.raw, tc.code, tc.message)
		}
		if tc.code == eks.CodeInvalidParameter && r.str("clusterName") != "kdp" {
			t.Errorf("%s: no clusterName in %s", tc.body, r.raw)
		}
	}

	if r := h.do(http.MethodGet, "/clusters?maxResults=ten", nil, true); r.status != 400 || r.str("__type") != eks.CodeInvalidParameter ||
		!strings.Contains(r.str("message"), "'maxResults'") {
		t.Errorf("maxResults=ten: %d %s", r.status, r.raw)
	}
	if r := h.do(http.MethodGet, "/clusters?maxResults=101&nextToken=x", nil, true); r.status != 400 ||
		r.str("message") != "1 validation error detected: Value '101' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100" {
		t.Errorf("maxResults=101: %d %s", r.status, r.raw)
	}

	// A body sent to an operation without body members is ignored.
	if r := h.do(http.MethodGet, "/clusters/kdp", []byte("not json"), true); r.status != 200 {
		t.Errorf("a body to DescribeCluster: %d %s", r.status, r.raw)
	}
	h.api.set("DeleteNodegroup", (*types.DeleteNodegroupResponse)(nil), nil)
	if r := h.do(http.MethodDelete, "/clusters/kdp/node-groups/web", nil, true); r.status != 200 || strings.TrimSpace(r.raw) != "{}" {
		t.Errorf("a nil output: %d %q", r.status, r.raw)
	}
	// Absent members are left out, not null.
	h.api.set("DescribeCluster", &types.DescribeClusterResponse{Cluster: &types.Cluster{Name: "kdp"}}, nil)
	if r := h.do(http.MethodGet, "/clusters/kdp", nil, true); r.status != 200 || strings.TrimSpace(r.raw) != `{"cluster":{"name":"kdp"}}` {
		t.Errorf("DescribeCluster: %d %q", r.status, r.raw)
	}
}

// Test_Unit_RawErrorMembers: an error body has only the context members
// its shape declares.
func Test_Unit_RawErrorMembers(t *testing.T) {
	h := newHarness(t)
	h.api.set("ListTagsForResource", nil, &eks.Error{Code: eks.CodeResourceNotFound, Message: "gone", ClusterName: "kdp", NodegroupName: "web"})
	r := h.do(http.MethodGet, "/tags/arn%3Aaws%3Aeks%3Aus-west-2%3A1%3Acluster%2Fkdp", nil, true)
	if r.status != 404 || len(r.body) != 2 || r.str("__type") != eks.CodeNotFound || r.str("message") != "gone" {
		t.Errorf("ListTagsForResource: %d %s", r.status, r.raw)
	}
	h.api.set("DeleteFargateProfile", nil, &eks.Error{Code: eks.CodeResourceNotFound, Message: "gone", ClusterName: "kdp", FargateProfileName: "fp", NodegroupName: "x"})
	r = h.do(http.MethodDelete, "/clusters/kdp/fargate-profiles/fp", nil, true)
	want := map[string]any{"__type": eks.CodeResourceNotFound, "message": "gone", "clusterName": "kdp", "fargateProfileName": "fp", "nodegroupName": "x"}
	if r.status != 404 || fmt.Sprint(r.body) != fmt.Sprint(want) {
		t.Errorf("DeleteFargateProfile: %d %s", r.status, r.raw)
	}
	h.api.set("DeleteNodegroup", nil, &eks.Error{Code: eks.CodeResourceInUse, Message: "busy", ClusterName: "kdp", FargateProfileName: "fp"})
	r = h.do(http.MethodDelete, "/clusters/kdp/node-groups/web", nil, true)
	if r.status != 409 || r.body["fargateProfileName"] != nil || r.str("clusterName") != "kdp" {
		t.Errorf("DeleteNodegroup: %d %s", r.status, r.raw)
	}
}

// Test_Unit_ConformServedOps: every code the Service can answer, on every
// served operation, becomes one the operation declares (a fault stays a
// ServerException, the only code allowed beyond the model), with the
// status of its class.
func Test_Unit_ConformServedOps(t *testing.T) {
	// ListAccessPolicies declares no client error at all: a bad
	// maxResults or nextToken keeps its own code there.
	declaresClientError := func(op *types.Operation) bool {
		return slices.ContainsFunc(client4xx, op.Declares)
	}
	codes := []string{eks.CodeInvalidParameter, eks.CodeInvalidRequest, eks.CodeResourceInUse, eks.CodeResourceNotFound,
		eks.CodeResourceLimitExceeded, eks.CodeServer, eks.CodeBadRequest, eks.CodeNotFound, eks.CodeClient, eks.CodeUnsupportedAZ, eks.CodeServiceUnavailable}
	for _, op := range types.Operations {
		if !op.Served {
			continue
		}
		for _, code := range codes {
			got := conform(&op, code)
			in, out := types.ErrorStatus[code], types.ErrorStatus[got]
			switch {
			case in >= 500 && got != eks.CodeServer && !(op.Declares(code) && got == code): // a declared 5xx (ServiceUnavailableException) is kept
				t.Errorf("%s: fault %s became %s", op.Name, code, got)
			case in < 500 && !op.Declares(got) && declaresClientError(&op):
				t.Errorf("%s: %s became %s, which it does not declare (%v)", op.Name, code, got, op.Errors)
			case in < 500 && (out < 400 || out >= 500):
				t.Errorf("%s: client error %s became %s (%d)", op.Name, code, got, out)
			case op.Declares(code) && got != code:
				t.Errorf("%s: declared %s became %s", op.Name, code, got)
			}
		}
		if c := conform(&op, "NoSuchCode"); c != eks.CodeServer {
			t.Errorf("%s: an unknown code became %s", op.Name, c)
		}
	}
	for _, op := range types.Operations {
		if c := unsupportedCode(&op); !op.Declares(c) && len(op.Errors) > 1 {
			t.Errorf("%s: not supported answers %s, which it does not declare (%v)", op.Name, c, op.Errors)
		}
	}
}

// Test_Unit_Routes: every operation of the model is routed from its own
// method and path (labels as a client escapes them), and literal segments
// win over labels.
func Test_Unit_Routes(t *testing.T) {
	rs := newRoutes(types.Operations)
	for _, op := range types.Operations {
		path := op.URI
		want := map[string]string{}
		for strings.Contains(path, "{") {
			i, j := strings.Index(path, "{"), strings.Index(path, "}")
			label := path[i+1 : j]
			want[label] = "a:b/" + label + " c"
			path = path[:i] + "a%3Ab%2F" + label + "%20c" + path[j+1:]
		}
		got, labels := rs.match(op.Method, path)
		if got == nil || got.Name != op.Name || fmt.Sprint(labels) != fmt.Sprint(want) && len(want) > 0 {
			t.Errorf("%s %s: matched %v %v", op.Method, path, got, labels)
		}
	}
	if op, _ := rs.match("GET", "/clusters/kdp/updates"); op == nil || op.Name != "ListUpdates" {
		t.Errorf("GET /clusters/kdp/updates: %v", op)
	}
	if op, _ := rs.match("POST", "/clusters/kdp/identity-provider-configs/describe"); op == nil || op.Name != "DescribeIdentityProviderConfig" {
		t.Errorf("POST .../identity-provider-configs/describe: %v", op)
	}
	if op, _ := rs.match("GET", "/clusters/kdp%zz"); op != nil {
		t.Errorf("a bad escape matched %s", op.Name)
	}
}
