package auth

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
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	clocktesting "k8s.io/utils/clock/testing"
)

const (
	testRegion  = "us-west-2"
	testAccount = "111122223333"
	// nodegroupARN is an EKS path label: percent-encoded, ':' and '/'
	// included, as botocore and the Go SDK send it.
	nodegroupARN = "arn%3Aaws%3Aeks%3Aus-west-2%3A111122223333%3Anodegroup%2Fkdp%2Fng%2F6ec9b1a4-2f36-4e4b-9b1e-0d6ad4a0f3c1"
)

// now is the server's clock in the tests, and the signing time unless a
// test says otherwise.
var now = time.Date(2026, 12, 2, 10, 35, 11, 0, time.UTC)

// harness is an httptest server whose handler authenticates each request
// with a Verifier over a Store in a temporary directory, and answers 200
// with the credential's name or 403 with the error, as the EKS API does.
type harness struct {
	t        *testing.T
	srv      *httptest.Server
	store    *Store
	clock    *clocktesting.FakeClock
	verifier *Verifier
	admin    Credential
}

type result struct {
	Status  int
	Code    string // X-Amzn-ErrorType
	Message string
	Name    string // of the credential, on success
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	store, err := Open(filepath.Join(t.TempDir(), "eks-api", "credentials.json"), Settings{Account: testAccount, Region: testRegion})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := store.Create("admin")
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, store: store, clock: clocktesting.NewFakeClock(now), admin: admin}
	h.verifier = &Verifier{Store: store, Region: testRegion, Service: "eks", Clock: h.clock}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		cred, err := h.verifier.Verify(r, body)
		w.Header().Set("Content-Type", "application/json")
		var ae *Error
		switch {
		case err == nil:
			_ = json.NewEncoder(w).Encode(map[string]string{"name": cred.Name})
		case errors.As(err, &ae):
			w.Header().Set("X-Amzn-ErrorType", ae.Code)
			w.WriteHeader(ae.StatusCode())
			_ = json.NewEncoder(w).Encode(map[string]string{"message": ae.Message})
		default:
			t.Errorf("Verify returned %T %v, not an *Error", err, err)
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// request is a request before signing.
type request struct {
	method string
	path   string // escaped, as sent
	query  string // raw, as sent
	header map[string]string
	body   string
}

func (q request) url(base string) string {
	u := base + q.path
	if q.query != "" {
		u += "?" + q.query
	}
	return u
}

// The requests EKS clients send, each signed by both signers.
var requests = map[string]request{
	"POST with a JSON body": {method: "POST", path: "/clusters/kdp/node-groups",
		header: map[string]string{"Content-Type": "application/json"},
		body:   `{"nodegroupName":"ng","subnets":["subnet-1"],"nodeRole":"arn:aws:iam::111122223333:role/node"}`},
	"GET with query parameters": {method: "GET", path: "/clusters/kdp/node-groups", query: "maxResults=5&nextToken=abc%2Fdef%3D%3D"},
	"POST to a path with an encoded ARN": {method: "POST", path: "/tags/" + nodegroupARN,
		header: map[string]string{"Content-Type": "application/json"}, body: `{"tags":{"team":"web"}}`},
	"DELETE with repeated query keys": {method: "DELETE", path: "/tags/" + nodegroupARN, query: "tagKeys=a&tagKeys=b"},
	"GET without a query":             {method: "GET", path: "/clusters/kdp/node-groups/ng"},
}

// signGo signs q for the harness's server with aws-sdk-go-v2's signer, as
// the Go SDK's clients do.
func (h *harness) signGo(q request, akid, secret, region, service string, at time.Time) *http.Request {
	h.t.Helper()
	r, err := http.NewRequest(q.method, q.url(h.srv.URL), bodyReader(q.body))
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	creds := aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, sha256Hex(q.body), service, region, at); err != nil {
		h.t.Fatal(err)
	}
	return r
}

// presignGo presigns q for expires with aws-sdk-go-v2's signer.
func (h *harness) presignGo(q request, at time.Time, expires string) *http.Request {
	h.t.Helper()
	sep := "?"
	if q.query != "" {
		sep = "&"
	}
	r, err := http.NewRequest(q.method, q.url(h.srv.URL)+sep+"X-Amz-Expires="+expires, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	creds := aws.Credentials{AccessKeyID: h.admin.AccessKeyID, SecretAccessKey: h.admin.SecretAccessKey}
	signed, header, err := v4.NewSigner().PresignHTTP(context.Background(), creds, r, sha256Hex(""), "eks", testRegion, at)
	if err != nil {
		h.t.Fatal(err)
	}
	r, err = http.NewRequest(q.method, signed, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range header {
		if k != "Host" {
			r.Header[k] = v
		}
	}
	return r
}

// botocoreSpec is a request for testdata/sign.py to sign.
type botocoreSpec struct {
	Method          string            `json:"method"`
	URL             string            `json:"url"`
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
	AccessKeyID     string            `json:"accessKeyId"`
	SecretAccessKey string            `json:"secretAccessKey"`
	Region          string            `json:"region"`
	Service         string            `json:"service"`
	Date            string            `json:"date"`
	Expires         int               `json:"expires,omitempty"`
}

func (h *harness) spec(q request, at time.Time) botocoreSpec {
	return botocoreSpec{Method: q.method, URL: q.url(h.srv.URL), Headers: q.header, Body: q.body,
		AccessKeyID: h.admin.AccessKeyID, SecretAccessKey: h.admin.SecretAccessKey,
		Region: testRegion, Service: "eks", Date: at.Format(amzDate)}
}

// signBotocore signs specs with botocore (one python process for all).
func (h *harness) signBotocore(specs ...botocoreSpec) []*http.Request {
	h.t.Helper()
	var out struct {
		Signed []struct {
			Method  string            `json:"method"`
			URL     string            `json:"url"`
			Headers map[string]string `json:"headers"`
			Body    string            `json:"body"`
		} `json:"signed"`
	}
	runBotocore(h.t, map[string]any{"sign": specs}, &out)
	var reqs []*http.Request
	for _, s := range out.Signed {
		r, err := http.NewRequest(s.Method, s.URL, bodyReader(s.Body))
		if err != nil {
			h.t.Fatal(err)
		}
		for k, v := range s.Headers {
			r.Header.Set(k, v)
		}
		reqs = append(reqs, r)
	}
	if len(reqs) != len(specs) {
		h.t.Fatalf("botocore signed %d requests of %d", len(reqs), len(specs))
	}
	return reqs
}

// runBotocore runs testdata/sign.py with in on stdin and decodes its
// output into out. There is no skipping: python3 with botocore is on every
// machine kdp is built on, CI's included.
func runBotocore(t *testing.T, in, out any) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Fatalf("these tests sign requests with botocore, and need python3 on PATH (pip install botocore): %v", err)
	}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", filepath.Join("testdata", "sign.py"))
	cmd.Stdin = bytes.NewReader(data)
	// No user's aws config or AWS_* variables: only what the test passes.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		if strings.Contains(stderr.String(), "No module named 'botocore'") {
			t.Fatalf("these tests sign requests with botocore, which python3 lacks: pip install botocore\n%s", stderr.String())
		}
		t.Fatalf("testdata/sign.py: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		t.Fatalf("testdata/sign.py printed %q: %v", stdout, err)
	}
}

// send sends r to the harness's server.
func (h *harness) send(r *http.Request) result {
	h.t.Helper()
	resp, err := h.srv.Client().Do(r)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Name, Message string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		h.t.Fatalf("%s %s: response: %v", r.Method, r.URL, err)
	}
	return result{Status: resp.StatusCode, Code: resp.Header.Get("X-Amzn-ErrorType"), Message: body.Message, Name: body.Name}
}

func bodyReader(s string) io.Reader {
	if s == "" {
		return nil
	}
	return strings.NewReader(s)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
