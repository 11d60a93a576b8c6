package eksapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awseks "github.com/aws/aws-sdk-go-v2/service/eks"

	"github.com/kdp-project/kdp/internal/eks"
	"github.com/kdp-project/kdp/internal/eks/types"
	"github.com/kdp-project/kdp/internal/eksapi/auth"
)

const (
	testRegion  = "us-west-2"
	testAccount = "111122223333"
)

// fakeAPI is the Service in these tests: it records the input (and the
// principal) of each call and answers the canned output or error of the
// operation, or an empty output.
type fakeAPI struct {
	mu        sync.Mutex
	inputs    map[string]any
	principal string
	outputs   map[string]any
	errs      map[string]error
	// onCall, if set, answers the error of every call instead.
	onCall func(op string) error
}

// errPanic makes the fake API panic.
var errPanic = errors.New("panic, please")

func newFakeAPI() *fakeAPI {
	return &fakeAPI{inputs: map[string]any{}, outputs: map[string]any{}, errs: map[string]error{}}
}

func (f *fakeAPI) set(op string, out any, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.outputs[op], f.errs[op] = out, err
}

func (f *fakeAPI) input(op string) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.inputs[op]
}

func answer[T any](ctx context.Context, f *fakeAPI, op string, in any) (*T, error) {
	f.mu.Lock()
	f.inputs[op], f.principal = in, eks.Principal(ctx)
	out, err := f.outputs[op], f.errs[op]
	if f.onCall != nil {
		err = f.onCall(op)
	}
	f.mu.Unlock()
	switch {
	case err == errPanic:
		panic("the fake API was told to panic")
	case err != nil:
		return nil, err
	case out == nil:
		return new(T), nil
	}
	return out.(*T), nil
}

func (f *fakeAPI) CreateCluster(ctx context.Context, in *types.CreateClusterRequest) (*types.CreateClusterResponse, error) {
	return answer[types.CreateClusterResponse](ctx, f, "CreateCluster", in)
}
func (f *fakeAPI) DeleteCluster(ctx context.Context, in *types.DeleteClusterRequest) (*types.DeleteClusterResponse, error) {
	return answer[types.DeleteClusterResponse](ctx, f, "DeleteCluster", in)
}
func (f *fakeAPI) UpdateClusterConfig(ctx context.Context, in *types.UpdateClusterConfigRequest) (*types.UpdateClusterConfigResponse, error) {
	return answer[types.UpdateClusterConfigResponse](ctx, f, "UpdateClusterConfig", in)
}
func (f *fakeAPI) CreateAccessEntry(ctx context.Context, in *types.CreateAccessEntryRequest) (*types.CreateAccessEntryResponse, error) {
	return answer[types.CreateAccessEntryResponse](ctx, f, "CreateAccessEntry", in)
}
func (f *fakeAPI) DescribeAccessEntry(ctx context.Context, in *types.DescribeAccessEntryRequest) (*types.DescribeAccessEntryResponse, error) {
	return answer[types.DescribeAccessEntryResponse](ctx, f, "DescribeAccessEntry", in)
}
func (f *fakeAPI) ListAccessEntries(ctx context.Context, in *types.ListAccessEntriesRequest) (*types.ListAccessEntriesResponse, error) {
	return answer[types.ListAccessEntriesResponse](ctx, f, "ListAccessEntries", in)
}
func (f *fakeAPI) DeleteAccessEntry(ctx context.Context, in *types.DeleteAccessEntryRequest) (*types.DeleteAccessEntryResponse, error) {
	return answer[types.DeleteAccessEntryResponse](ctx, f, "DeleteAccessEntry", in)
}
func (f *fakeAPI) AssociateAccessPolicy(ctx context.Context, in *types.AssociateAccessPolicyRequest) (*types.AssociateAccessPolicyResponse, error) {
	return answer[types.AssociateAccessPolicyResponse](ctx, f, "AssociateAccessPolicy", in)
}
func (f *fakeAPI) DisassociateAccessPolicy(ctx context.Context, in *types.DisassociateAccessPolicyRequest) (*types.DisassociateAccessPolicyResponse, error) {
	return answer[types.DisassociateAccessPolicyResponse](ctx, f, "DisassociateAccessPolicy", in)
}
func (f *fakeAPI) ListAssociatedAccessPolicies(ctx context.Context, in *types.ListAssociatedAccessPoliciesRequest) (*types.ListAssociatedAccessPoliciesResponse, error) {
	return answer[types.ListAssociatedAccessPoliciesResponse](ctx, f, "ListAssociatedAccessPolicies", in)
}
func (f *fakeAPI) ListAccessPolicies(ctx context.Context, in *types.ListAccessPoliciesRequest) (*types.ListAccessPoliciesResponse, error) {
	return answer[types.ListAccessPoliciesResponse](ctx, f, "ListAccessPolicies", in)
}
func (f *fakeAPI) DescribeCluster(ctx context.Context, in *types.DescribeClusterRequest) (*types.DescribeClusterResponse, error) {
	return answer[types.DescribeClusterResponse](ctx, f, "DescribeCluster", in)
}
func (f *fakeAPI) ListClusters(ctx context.Context, in *types.ListClustersRequest) (*types.ListClustersResponse, error) {
	return answer[types.ListClustersResponse](ctx, f, "ListClusters", in)
}
func (f *fakeAPI) CreateNodegroup(ctx context.Context, in *types.CreateNodegroupRequest) (*types.CreateNodegroupResponse, error) {
	return answer[types.CreateNodegroupResponse](ctx, f, "CreateNodegroup", in)
}
func (f *fakeAPI) DescribeNodegroup(ctx context.Context, in *types.DescribeNodegroupRequest) (*types.DescribeNodegroupResponse, error) {
	return answer[types.DescribeNodegroupResponse](ctx, f, "DescribeNodegroup", in)
}
func (f *fakeAPI) ListNodegroups(ctx context.Context, in *types.ListNodegroupsRequest) (*types.ListNodegroupsResponse, error) {
	return answer[types.ListNodegroupsResponse](ctx, f, "ListNodegroups", in)
}
func (f *fakeAPI) UpdateNodegroupConfig(ctx context.Context, in *types.UpdateNodegroupConfigRequest) (*types.UpdateNodegroupConfigResponse, error) {
	return answer[types.UpdateNodegroupConfigResponse](ctx, f, "UpdateNodegroupConfig", in)
}
func (f *fakeAPI) UpdateNodegroupVersion(ctx context.Context, in *types.UpdateNodegroupVersionRequest) (*types.UpdateNodegroupVersionResponse, error) {
	return answer[types.UpdateNodegroupVersionResponse](ctx, f, "UpdateNodegroupVersion", in)
}
func (f *fakeAPI) DeleteNodegroup(ctx context.Context, in *types.DeleteNodegroupRequest) (*types.DeleteNodegroupResponse, error) {
	return answer[types.DeleteNodegroupResponse](ctx, f, "DeleteNodegroup", in)
}
func (f *fakeAPI) DescribeUpdate(ctx context.Context, in *types.DescribeUpdateRequest) (*types.DescribeUpdateResponse, error) {
	return answer[types.DescribeUpdateResponse](ctx, f, "DescribeUpdate", in)
}
func (f *fakeAPI) ListUpdates(ctx context.Context, in *types.ListUpdatesRequest) (*types.ListUpdatesResponse, error) {
	return answer[types.ListUpdatesResponse](ctx, f, "ListUpdates", in)
}
func (f *fakeAPI) CreateFargateProfile(ctx context.Context, in *types.CreateFargateProfileRequest) (*types.CreateFargateProfileResponse, error) {
	return answer[types.CreateFargateProfileResponse](ctx, f, "CreateFargateProfile", in)
}
func (f *fakeAPI) DescribeFargateProfile(ctx context.Context, in *types.DescribeFargateProfileRequest) (*types.DescribeFargateProfileResponse, error) {
	return answer[types.DescribeFargateProfileResponse](ctx, f, "DescribeFargateProfile", in)
}
func (f *fakeAPI) ListFargateProfiles(ctx context.Context, in *types.ListFargateProfilesRequest) (*types.ListFargateProfilesResponse, error) {
	return answer[types.ListFargateProfilesResponse](ctx, f, "ListFargateProfiles", in)
}
func (f *fakeAPI) DeleteFargateProfile(ctx context.Context, in *types.DeleteFargateProfileRequest) (*types.DeleteFargateProfileResponse, error) {
	return answer[types.DeleteFargateProfileResponse](ctx, f, "DeleteFargateProfile", in)
}
func (f *fakeAPI) TagResource(ctx context.Context, in *types.TagResourceRequest) (*types.TagResourceResponse, error) {
	return answer[types.TagResourceResponse](ctx, f, "TagResource", in)
}
func (f *fakeAPI) UntagResource(ctx context.Context, in *types.UntagResourceRequest) (*types.UntagResourceResponse, error) {
	return answer[types.UntagResourceResponse](ctx, f, "UntagResource", in)
}
func (f *fakeAPI) ListTagsForResource(ctx context.Context, in *types.ListTagsForResourceRequest) (*types.ListTagsForResourceResponse, error) {
	return answer[types.ListTagsForResourceResponse](ctx, f, "ListTagsForResource", in)
}

// syncBuffer is an audit log the tests read while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records are the audit records written so far.
func (b *syncBuffer) records(t *testing.T) []AuditRecord {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []AuditRecord
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var r AuditRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

// harness is the EKS API's HTTP layer over a fake API, on an httptest
// server, authenticating with a real Verifier over a credentials file in a
// temporary directory.
type harness struct {
	t     *testing.T
	api   *fakeAPI
	srv   *httptest.Server
	store *auth.Store
	cred  auth.Credential
	audit *syncBuffer
}

func newHarness(t *testing.T, mod ...func(*Options)) *harness {
	t.Helper()
	store, err := auth.Open(filepath.Join(t.TempDir(), "eks-api", "credentials.json"), auth.Settings{Account: testAccount, Region: testRegion})
	if err != nil {
		t.Fatal(err)
	}
	cred, err := store.Create("tester")
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, api: newFakeAPI(), store: store, cred: cred, audit: &syncBuffer{}}
	o := Options{API: h.api, Keys: store, Region: testRegion, Audit: h.audit}
	for _, m := range mod {
		m(&o)
	}
	h.srv = httptest.NewServer(New(o))
	t.Cleanup(h.srv.Close)
	return h
}

// client is the real EKS client of aws-sdk-go-v2, signing with the
// harness's credential (or the one given), without retries.
func (h *harness) client(cred ...aws.Credentials) *awseks.Client {
	c := aws.Credentials{AccessKeyID: h.cred.AccessKeyID, SecretAccessKey: h.cred.SecretAccessKey}
	if len(cred) > 0 {
		c = cred[0]
	}
	return awseks.New(awseks.Options{
		BaseEndpoint: aws.String(h.srv.URL),
		Region:       testRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		Retryer:      aws.NopRetryer{},
	})
}

// response is a raw HTTP response, its body decoded.
type response struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

func (r response) str(member string) string {
	s, _ := r.body[member].(string)
	return s
}

// do sends a raw request, signed with the harness's credential if sign is
// set, and checks what every response must have: a request id and a JSON
// body.
func (h *harness) do(method, path string, body []byte, sign bool, header ...string) response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if len(body) == 0 {
		req.Body, req.ContentLength = http.NoBody, 0
	} else {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if sign {
		sum := sha256.Sum256(body)
		err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: h.cred.AccessKeyID, SecretAccessKey: h.cred.SecretAccessKey},
			req, hex.EncodeToString(sum[:]), "eks", testRegion, time.Now())
		if err != nil {
			h.t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if id := resp.Header.Get("X-Amzn-Requestid"); len(id) != 36 {
		h.t.Errorf("%s %s: x-amzn-RequestId %q is not a UUID", method, path, id)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		h.t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	if err := json.Unmarshal(raw, &out.body); err != nil {
		h.t.Errorf("%s %s: the body is not a JSON object: %q", method, path, raw)
	}
	if out.status >= 400 {
		if code := resp.Header.Get("X-Amzn-ErrorType"); code == "" || code != out.str("__type") {
			h.t.Errorf("%s %s: X-Amzn-ErrorType %q, __type %q", method, path, code, out.str("__type"))
		}
	}
	return out
}
