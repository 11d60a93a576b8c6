package iamauth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/go-logr/logr"
	authnv1 "k8s.io/api/authentication/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kdp-project/kdp/internal/eksapi/auth"
)

const region = "us-west-2"

// harness serves the STS handler with a real credentials store.
type harness struct {
	srv   *httptest.Server
	store *auth.Store
	cred  auth.Credential
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	store, err := auth.Open(filepath.Join(t.TempDir(), "eks-api", "credentials.json"), auth.Settings{Account: "123456789012", Region: region})
	if err != nil {
		t.Fatal(err)
	}
	cred, err := store.Create("alice")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewSTS(STSOptions{Keys: store, Region: region}))
	t.Cleanup(srv.Close)
	return &harness{srv: srv, store: store, cred: cred}
}

func (h *harness) host() string { return strings.TrimPrefix(h.srv.URL, "http://") }

func (h *harness) stsClient(key, secret string) *sts.Client {
	return sts.New(sts.Options{
		BaseEndpoint: aws.String(h.srv.URL), Region: region,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
	})
}

// awsCLI runs the aws CLI with h's endpoint and alice's key.
func (h *harness) awsCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Fatal("the aws CLI is not installed: this test needs it (pip install awscli)")
	}
	cmd := exec.Command("aws", args...)
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL_STS="+h.srv.URL, "AWS_ACCESS_KEY_ID="+h.cred.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+h.cred.SecretAccessKey, "AWS_REGION="+region, "AWS_DEFAULT_REGION="+region,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_SESSION_TOKEN=", "AWS_PAGER=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// GetCallerIdentity answers who signed, to the SDK and the aws CLI; a
// wrong secret and an unknown key are refused in STS's terms.
func TestGetCallerIdentity(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	out, err := h.stsClient(h.cred.AccessKeyID, h.cred.SecretAccessKey).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Arn) != "arn:aws:iam::123456789012:user/alice" || aws.ToString(out.Account) != "123456789012" || aws.ToString(out.UserId) != UserID(h.cred.AccessKeyID) {
		t.Errorf("GetCallerIdentity: arn %s account %s user id %s", aws.ToString(out.Arn), aws.ToString(out.Account), aws.ToString(out.UserId))
	}
	_, err = h.stsClient(h.cred.AccessKeyID, "wrong").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Errorf("a wrong secret: %v", err)
	}
	_, err = h.stsClient("AKIAIOSFODNN7EXAMPLE", "x").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err == nil || !strings.Contains(err.Error(), "InvalidClientTokenId") {
		t.Errorf("an unknown key: %v", err)
	}
	stdout, stderr, err := h.awsCLI(t, "sts", "get-caller-identity", "--output", "json")
	if err != nil {
		t.Fatalf("aws sts get-caller-identity: %v: %s", err, stderr)
	}
	var id map[string]string
	if err := json.Unmarshal([]byte(stdout), &id); err != nil || id["Arn"] != "arn:aws:iam::123456789012:user/alice" {
		t.Errorf("aws sts get-caller-identity: %s (%v)", stdout, err)
	}
	// Another action is refused, after authentication.
	if _, stderr, err := h.awsCLI(t, "sts", "get-session-token"); err == nil || !strings.Contains(stderr, "InvalidAction") {
		t.Errorf("aws sts get-session-token: %v %s", err, stderr)
	}
}

// cliToken is a token of aws eks get-token for cluster.
func (h *harness) cliToken(t *testing.T, cluster string) string {
	t.Helper()
	stdout, stderr, err := h.awsCLI(t, "eks", "get-token", "--cluster-name", cluster, "--output", "json")
	if err != nil {
		t.Fatalf("aws eks get-token: %v: %s", err, stderr)
	}
	var cred struct {
		Status struct {
			Token string `json:"token"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(stdout), &cred); err != nil {
		t.Fatal(err)
	}
	return cred.Status.Token
}

// sdkToken is a token presigned with aws-sdk-go-v2, the headers
// x-k8s-aws-id and X-Amz-Expires (hoisted into the query) added before
// signing, as aws-iam-authenticator's Go generator does.
func (h *harness) sdkToken(t *testing.T, cluster string) string {
	t.Helper()
	presign := sts.NewPresignClient(h.stsClient(h.cred.AccessKeyID, h.cred.SecretAccessKey))
	req, err := presign.PresignGetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}, func(o *sts.PresignOptions) {
		o.ClientOptions = append(o.ClientOptions, func(o *sts.Options) {
			o.APIOptions = append(o.APIOptions, smithyhttp.SetHeaderValue(ClusterIDHeader, cluster), smithyhttp.SetHeaderValue("X-Amz-Expires", "60"))
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(req.URL))
}

// Tokens of aws eks get-token and of the Go SDK verify for their cluster
// within 15 minutes of signing, and for nothing else.
func TestVerifyToken(t *testing.T) {
	h := newHarness(t)
	clk := clocktesting.NewFakeClock(time.Now())
	v := &TokenVerifier{Keys: h.store, Region: region, Hosts: []string{h.host()}, Clock: clk}
	for name, token := range map[string]string{"aws eks get-token": h.cliToken(t, "dev"), "aws-sdk-go-v2": h.sdkToken(t, "dev")} {
		t.Run(name, func(t *testing.T) {
			clk.SetTime(time.Now())
			id, err := v.Verify(token, "dev")
			if err != nil {
				t.Fatal(err)
			}
			if id.ARN != "arn:aws:iam::123456789012:user/alice" || id.CanonicalARN != id.ARN || id.AccountID != "123456789012" || id.AccessKeyID != h.cred.AccessKeyID {
				t.Errorf("identity %+v", id)
			}
			if _, err := v.Verify(token, "prod"); err == nil || !strings.Contains(err.Error(), "signature does not match") {
				t.Errorf("for another cluster: %v", err)
			}
			signed := signedTime(t, token)
			clk.SetTime(signed.Add(MaxTokenAge - time.Second))
			if _, err := v.Verify(token, "dev"); err != nil {
				t.Errorf("a second before 15 minutes: %v", err)
			}
			clk.SetTime(signed.Add(MaxTokenAge + time.Second))
			if _, err := v.Verify(token, "dev"); err == nil || !strings.Contains(err.Error(), "token expired") {
				t.Errorf("a second after 15 minutes: %v", err)
			}
		})
	}

	clk.SetTime(time.Now())
	good := h.sdkToken(t, "dev")
	u := tokenURL(t, good)
	tamper := func(f func(q url.Values, u *url.URL)) string {
		c := *u
		q := c.Query()
		f(q, &c)
		c.RawQuery = q.Encode()
		return TokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(c.String()))
	}
	unknown, err := auth.Open(filepath.Join(t.TempDir(), "other.json"), auth.Settings{Account: "123456789012", Region: region})
	if err != nil {
		t.Fatal(err)
	}
	stranger, _ := unknown.Create("mallory")
	for _, c := range []struct{ name, token, want string }{
		{"bad prefix", "k8s-aws-v2." + strings.TrimPrefix(good, TokenPrefix), "not a k8s-aws-v1 token"},
		{"bad base64", TokenPrefix + "!!!", "not base64url"},
		{"tampered signature", tamper(func(q url.Values, _ *url.URL) { q.Set("X-Amz-Signature", strings.Repeat("0", 64)) }), "signature does not match"},
		{"tampered action", tamper(func(q url.Values, _ *url.URL) { q.Set("Action", "GetSessionToken") }), "not GetCallerIdentity"},
		{"another parameter", tamper(func(q url.Values, _ *url.URL) { q.Set("Extra", "1") }), `parameter "Extra"`},
		{"another host", tamper(func(_ url.Values, u *url.URL) { u.Host = "sts.amazonaws.com" }), "not at " + h.host()},
		{"another path", tamper(func(_ url.Values, u *url.URL) { u.Path = "/x" }), `path "/x"`},
		{"no cluster header signed", tamper(func(q url.Values, _ *url.URL) { q.Set("X-Amz-SignedHeaders", "host") }), "does not cover the x-k8s-aws-id header"},
		{"unknown key", tamper(func(q url.Values, _ *url.URL) {
			q.Set("X-Amz-Credential", strings.Replace(q.Get("X-Amz-Credential"), h.cred.AccessKeyID, stranger.AccessKeyID, 1))
		}), "token:"},
	} {
		if _, err := v.Verify(c.token, "dev"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
}

func tokenURL(t *testing.T, token string) *url.URL {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(token, TokenPrefix))
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func signedTime(t *testing.T, token string) time.Time {
	t.Helper()
	at, err := time.Parse("20060102T150405Z", tokenURL(t, token).Query().Get("X-Amz-Date"))
	if err != nil {
		t.Fatal(err)
	}
	return at
}

type mapper map[string]authnv1.UserInfo

func (m mapper) Map(_ string, id Identity) (authnv1.UserInfo, bool) {
	u, ok := m[id.CanonicalARN]
	return u, ok
}

// The TokenReview webhook: a good token of a mapped principal is
// authenticated as its user, with aws-iam-authenticator's extra; the
// rest are not, saying why.
func TestTokenReview(t *testing.T) {
	h := newHarness(t)
	v := &TokenVerifier{Keys: h.store, Region: region, Hosts: []string{h.host()}}
	m := mapper{"arn:aws:iam::123456789012:user/alice": {Username: "alice", Groups: []string{"devs"}}}
	mux := http.NewServeMux()
	mux.Handle("POST /kdp/authenticate/{cluster}", NewTokenReviewHandler(v, m, logr.Discard()))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	review := func(cluster, token string) authnv1.TokenReview {
		t.Helper()
		body, _ := json.Marshal(authnv1.TokenReview{Spec: authnv1.TokenReviewSpec{Token: token}})
		resp, err := http.Post(srv.URL+"/kdp/authenticate/"+cluster, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out authnv1.TokenReview
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	token := h.sdkToken(t, "dev")
	ok := review("dev", token)
	if !ok.Status.Authenticated || ok.Status.User.Username != "alice" || ok.Status.User.Groups[0] != "devs" ||
		ok.Status.User.Extra["arn"][0] != "arn:aws:iam::123456789012:user/alice" || ok.Status.User.Extra["accessKeyId"][0] != h.cred.AccessKeyID {
		t.Errorf("a good token: %+v", ok.Status)
	}
	if r := review("prod", token); r.Status.Authenticated || !strings.Contains(r.Status.Error, "signature does not match") {
		t.Errorf("another cluster's token: %+v", r.Status)
	}
	delete(m, "arn:aws:iam::123456789012:user/alice")
	if r := review("dev", token); r.Status.Authenticated || !strings.Contains(r.Status.Error, "has no access entry in cluster dev") {
		t.Errorf("a principal without access: %+v", r.Status)
	}
}

// The webhook's kubeconfig names the endpoint and its CA.
func TestWriteWebhookKubeconfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hook", "kubeconfig")
	if err := WriteWebhookKubeconfig(path, "http://127.0.0.1:17083/kdp/authenticate/dev", nil); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(data), "server: http://127.0.0.1:17083/kdp/authenticate/dev") || !strings.Contains(string(data), "current-context: webhook") {
		t.Errorf("%s: %v\n%s", path, err, data)
	}
}

func TestCanonicalARN(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:iam::123456789012:user/alice":                     "arn:aws:iam::123456789012:user/alice",
		"arn:aws:sts::123456789012:assumed-role/Deployer/ci-run-7": "arn:aws:iam::123456789012:role/Deployer",
		"arn:aws:iam::123456789012:role/Deployer":                  "arn:aws:iam::123456789012:role/Deployer",
		"not-an-arn": "not-an-arn",
	} {
		if got := canonicalARN(in); got != want {
			t.Errorf("canonicalARN(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestIsSTSRequest(t *testing.T) {
	for _, c := range []struct {
		method, target, ct string
		want               bool
	}{
		{"POST", "/", "application/x-www-form-urlencoded; charset=utf-8", true},
		{"GET", "/?Action=GetCallerIdentity&Version=2011-06-15", "", true},
		{"POST", "/clusters", "application/json", false},
		{"GET", "/clusters/dev", "", false},
		{"POST", "/", "application/json", false},
	} {
		r := httptest.NewRequest(c.method, c.target, nil)
		if c.ct != "" {
			r.Header.Set("Content-Type", c.ct)
		}
		if got := IsSTSRequest(r); got != c.want {
			t.Errorf("%s %s (%s): %v, want %v", c.method, c.target, c.ct, got, c.want)
		}
	}
}
