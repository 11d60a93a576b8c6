package auth

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestVerifyGoSDKSignatures(t *testing.T) {
	h := newHarness(t)
	for name, q := range requests {
		t.Run(name, func(t *testing.T) {
			got := h.send(h.signGo(q, h.admin.AccessKeyID, h.admin.SecretAccessKey, testRegion, "eks", now))
			if got.Status != http.StatusOK || got.Name != "admin" {
				t.Errorf("%s %s: %+v", q.method, q.path, got)
			}
		})
	}
}

func TestVerifyBotocoreSignatures(t *testing.T) {
	h := newHarness(t)
	names := sortedKeys(requests)
	var specs []botocoreSpec
	for _, name := range names {
		specs = append(specs, h.spec(requests[name], now))
	}
	for i, r := range h.signBotocore(specs...) {
		t.Run(names[i], func(t *testing.T) {
			if got := h.send(r); got.Status != http.StatusOK || got.Name != "admin" {
				t.Errorf("%s %s (SignedHeaders: %s): %+v", r.Method, r.URL, signedHeaders(r), got)
			}
		})
	}
}

func TestVerifyPresigned(t *testing.T) {
	h := newHarness(t)
	q := requests["GET with query parameters"]
	boto := h.spec(q, now.Add(-10*time.Minute))
	boto.Expires = 900
	fromBoto := h.signBotocore(boto)[0]
	fromGo := func() *http.Request { return h.presignGo(q, now.Add(-10*time.Minute), "900") }

	for name, r := range map[string]*http.Request{"aws-sdk-go-v2": fromGo(), "botocore": fromBoto} {
		if got := h.send(r); got.Status != http.StatusOK || got.Name != "admin" {
			t.Errorf("presigned by %s, 10 minutes ago for 15: %+v", name, got)
		}
	}

	tampered := fromGo()
	tampered.URL.RawQuery = strings.Replace(tampered.URL.RawQuery, "maxResults=5", "maxResults=6", 1)
	expect(t, "presigned, maxResults changed", h.send(tampered), CodeInvalidSignature, msgSignatureWrong)

	h.clock.SetTime(now.Add(6 * time.Minute))
	for name, r := range map[string]*http.Request{"aws-sdk-go-v2": fromGo(), "botocore": fromBoto} {
		expect(t, "presigned by "+name+", 16 minutes ago for 15", h.send(r), CodeInvalidSignature,
			"Signature expired: 20261202T104011Z is now earlier than 20261202T104111Z (20261202T102511Z + 900 sec.)")
	}

	h.clock.SetTime(now)
	expect(t, "presigned for 0 s", h.send(h.presignGo(q, now, "0")), CodeIncompleteSignature, "X-Amz-Expires must be")
	expect(t, "presigned for 8 days", h.send(h.presignGo(q, now, "691200")), CodeIncompleteSignature, "X-Amz-Expires must be")
	expect(t, "presigned 6 minutes ahead", h.send(h.presignGo(q, now.Add(6*time.Minute), "900")), CodeInvalidSignature, "Signature not yet current")
}

func TestVerifyFailures(t *testing.T) {
	h := newHarness(t)
	post := requests["POST with a JSON body"]
	get := requests["GET with query parameters"]
	sign := func(q request) *http.Request {
		return h.signGo(q, h.admin.AccessKeyID, h.admin.SecretAccessKey, testRegion, "eks", now)
	}
	withAuthz := func(authz string) *http.Request {
		r := sign(post)
		r.Header.Set("Authorization", authz)
		return r
	}
	scope := h.admin.AccessKeyID + "/20261202/us-west-2/eks/aws4_request"

	for _, tc := range []struct {
		name    string
		req     func() *http.Request
		code    string
		message string // a prefix of the message
	}{
		{"unsigned", func() *http.Request {
			r, _ := http.NewRequest("GET", h.srv.URL+"/clusters", nil)
			return r
		}, CodeMissingAuthenticationToken, "Missing Authentication Token"},
		{"another algorithm", func() *http.Request { return withAuthz("Bearer abc") },
			CodeIncompleteSignature, "Authorization header must use the AWS4-HMAC-SHA256 algorithm"},
		{"no parameters", func() *http.Request { return withAuthz("AWS4-HMAC-SHA256") }, CodeIncompleteSignature,
			"Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter."},
		{"no signature", func() *http.Request {
			return withAuthz("AWS4-HMAC-SHA256 Credential=" + scope + ", SignedHeaders=host;x-amz-date")
		}, CodeIncompleteSignature, "Authorization header requires 'Signature' parameter."},
		{"not key=value", func() *http.Request { return withAuthz("AWS4-HMAC-SHA256 Credential") },
			CodeIncompleteSignature, "'Credential' not a valid key=value pair"},
		{"a credential of 3 parts", func() *http.Request {
			return withAuthz("AWS4-HMAC-SHA256 Credential=AKIA/20261202/eks, SignedHeaders=host;x-amz-date, Signature=00")
		}, CodeIncompleteSignature, "Credential must have exactly 5 slash-delimited elements"},
		{"host not signed", func() *http.Request {
			return withAuthz("AWS4-HMAC-SHA256 Credential=" + scope + ", SignedHeaders=x-amz-date, Signature=00")
		}, CodeIncompleteSignature, "'Host' or ':authority' must be a 'SignedHeader'"},
		{"no X-Amz-Date", func() *http.Request {
			r := sign(post)
			r.Header.Del("X-Amz-Date")
			return r
		}, CodeIncompleteSignature, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."},
		{"a malformed X-Amz-Date", func() *http.Request {
			r := sign(post)
			r.Header.Set("X-Amz-Date", "2026-12-02T10:35:11Z")
			return r
		}, CodeIncompleteSignature, "Date must be in ISO-8601 'basic format'. Got '2026-12-02T10:35:11Z'."},
		{"an unknown key", func() *http.Request {
			return h.signGo(post, "AKIAAAAAAAAAAAAAAAAA", h.admin.SecretAccessKey, testRegion, "eks", now)
		}, CodeUnrecognizedClient, "The security token included in the request is invalid."},
		{"a session token", func() *http.Request {
			r := sign(post)
			r.Header.Set("X-Amz-Security-Token", "token")
			return r
		}, CodeUnrecognizedClient, "The security token included in the request is invalid."},
		{"a wrong secret", func() *http.Request {
			return h.signGo(post, h.admin.AccessKeyID, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", testRegion, "eks", now)
		}, CodeInvalidSignature, msgSignatureWrong},
		{"a tampered body", func() *http.Request {
			r := sign(post)
			tampered := strings.Replace(post.body, "subnet-1", "subnet-2", 1)
			r.Body = io.NopCloser(strings.NewReader(tampered))
			return r
		}, CodeInvalidSignature, msgSignatureWrong},
		{"a tampered path", func() *http.Request {
			r := sign(requests["POST to a path with an encoded ARN"])
			r.URL.RawPath = strings.Replace(r.URL.RawPath, "%2Fng%2F", "%2Fother%2F", 1)
			r.URL.Path = strings.Replace(r.URL.Path, "/ng/", "/other/", 1)
			return r
		}, CodeInvalidSignature, msgSignatureWrong},
		{"the path decoded", func() *http.Request {
			// The ARN's ':' and '/' sent as they are: another path to SigV4.
			r := sign(requests["POST to a path with an encoded ARN"])
			r.URL.Path, _ = url.PathUnescape(r.URL.RawPath)
			r.URL.RawPath = ""
			return r
		}, CodeInvalidSignature, msgSignatureWrong},
		{"a tampered signed header", func() *http.Request {
			r := sign(post)
			r.Header.Set("Content-Type", "text/plain")
			return r
		}, CodeInvalidSignature, msgSignatureWrong},
		{"a tampered query", func() *http.Request {
			r := sign(get)
			r.URL.RawQuery = "maxResults=6&nextToken=abc%2Fdef%3D%3D"
			return r
		}, CodeInvalidSignature, msgSignatureWrong},
		{"a query parameter added", func() *http.Request {
			r := sign(get)
			r.URL.RawQuery += "&include=all"
			return r
		}, CodeInvalidSignature, msgSignatureWrong},
		{"a tampered method", func() *http.Request {
			r := sign(requests["DELETE with repeated query keys"])
			r.Method = "GET"
			return r
		}, CodeInvalidSignature, msgSignatureWrong},
		{"a wrong region", func() *http.Request {
			return h.signGo(post, h.admin.AccessKeyID, h.admin.SecretAccessKey, "eu-west-1", "eks", now)
		}, CodeInvalidSignature, "Credential should be scoped to a valid region. This endpoint serves 'us-west-2', not 'eu-west-1'."},
		{"a wrong service", func() *http.Request {
			return h.signGo(post, h.admin.AccessKeyID, h.admin.SecretAccessKey, testRegion, "ec2", now)
		}, CodeInvalidSignature, "Credential should be scoped to correct service: 'eks'."},
		{"a wrong terminator", func() *http.Request {
			r := sign(post)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "aws4_request", "aws5_request", 1))
			return r
		}, CodeInvalidSignature, "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'."},
		{"a scope of another day", func() *http.Request {
			r := sign(post)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/20261202/", "/20261201/", 1))
			return r
		}, CodeInvalidSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261201' != '20261202'"},
		{"signed 5 min 1 s ago", func() *http.Request {
			return h.signGo(post, h.admin.AccessKeyID, h.admin.SecretAccessKey, testRegion, "eks", now.Add(-5*time.Minute-time.Second))
		}, CodeInvalidSignature, "Signature expired: 20261202T103010Z is now earlier than 20261202T103011Z (20261202T103511Z - 5 min.)"},
		{"signed 5 min 1 s ahead", func() *http.Request {
			return h.signGo(post, h.admin.AccessKeyID, h.admin.SecretAccessKey, testRegion, "eks", now.Add(5*time.Minute+time.Second))
		}, CodeInvalidSignature, "Signature not yet current: 20261202T104012Z is still later than 20261202T104011Z (20261202T103511Z + 5 min.)"},
		{"both a header and a presigned query", func() *http.Request {
			r := sign(post)
			r.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256"
			return r
		}, CodeIncompleteSignature, "Only one auth mechanism allowed"},
		{"a presigned query without a signature", func() *http.Request {
			r, _ := http.NewRequest("GET", h.srv.URL+"/clusters?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="+url.QueryEscape(scope), nil)
			return r
		}, CodeIncompleteSignature, "AWS query-string parameters must include 'X-Amz-Signature'. " +
			"AWS query-string parameters must include 'X-Amz-SignedHeaders'. AWS query-string parameters must include 'X-Amz-Date'."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := h.send(tc.req())
			expect(t, tc.name, got, tc.code, tc.message)
			if strings.Contains(got.Message, h.admin.SecretAccessKey) {
				t.Errorf("the message holds the secret: %q", got.Message)
			}
		})
	}
}

// TestVerifyWithinSkew: AWS's 5 minutes, both ways, are accepted.
func TestVerifyWithinSkew(t *testing.T) {
	h := newHarness(t)
	for _, d := range []time.Duration{-5 * time.Minute, 5 * time.Minute, -time.Second} {
		r := h.signGo(requests["POST with a JSON body"], h.admin.AccessKeyID, h.admin.SecretAccessKey, testRegion, "eks", now.Add(d))
		if got := h.send(r); got.Status != http.StatusOK {
			t.Errorf("signed %v from the server's clock: %+v", d, got)
		}
	}
}

// TestVerifyUnsignedHeaders: what the client did not sign may change on the
// way (a proxy's User-Agent, Accept-Encoding, ...).
func TestVerifyUnsignedHeaders(t *testing.T) {
	h := newHarness(t)
	r := h.signGo(requests["POST with a JSON body"], h.admin.AccessKeyID, h.admin.SecretAccessKey, testRegion, "eks", now)
	r.Header.Set("User-Agent", "aws-cli/2.22.0 md/command#eks.create-nodegroup")
	r.Header.Set("X-Forwarded-For", "10.0.0.1")
	if got := h.send(r); got.Status != http.StatusOK {
		t.Errorf("unsigned headers changed: %+v", got)
	}
}

// TestVerifySeesOtherProcesses: `kdp credentials create` and `revoke` run
// in another process than the server: their writes take effect at the
// server's next request.
func TestVerifySeesOtherProcesses(t *testing.T) {
	h := newHarness(t)
	cli, err := Load(h.store.Path()) // as the CLI opens it
	if err != nil {
		t.Fatal(err)
	}
	post := requests["POST with a JSON body"]
	for i := range 3 {
		ci, err := cli.Create("ci" + string(rune('a'+i)))
		if err != nil {
			t.Fatal(err)
		}
		signed := func() *http.Request {
			return h.signGo(post, ci.AccessKeyID, ci.SecretAccessKey, testRegion, "eks", now)
		}
		if got := h.send(signed()); got.Status != http.StatusOK || got.Name != ci.Name {
			t.Fatalf("a credential created by another process: %+v", got)
		}
		if err := cli.Revoke(ci.Name); err != nil {
			t.Fatal(err)
		}
		expect(t, "a revoked credential", h.send(signed()), CodeUnrecognizedClient, msgInvalidToken)
	}
	if got := h.send(h.signGo(post, h.admin.AccessKeyID, h.admin.SecretAccessKey, testRegion, "eks", now)); got.Status != http.StatusOK {
		t.Errorf("admin after the others' revocation: %+v", got)
	}
}

// TestVerifyRealClients calls the API with the Go SDK's EKS client and
// botocore's, on the real clock: their own handlers choose the headers,
// encode the paths and sign.
func TestVerifyRealClients(t *testing.T) {
	h := newHarness(t)
	h.verifier.Clock = nil
	arn, _ := url.PathUnescape(nodegroupARN)

	t.Run("botocore", func(t *testing.T) {
		var out struct{ Results map[string]string }
		cfg := map[string]string{"endpoint": h.srv.URL, "region": testRegion, "arn": arn,
			"accessKeyId": h.admin.AccessKeyID, "secretAccessKey": h.admin.SecretAccessKey}
		runBotocore(t, map[string]any{"client": cfg}, &out)
		if len(out.Results) == 0 {
			t.Fatal("no calls")
		}
		for op, code := range out.Results {
			if code != "" {
				t.Errorf("botocore %s: %s", op, code)
			}
		}
		cfg["secretAccessKey"] = strings.Repeat("x", 40)
		runBotocore(t, map[string]any{"client": cfg}, &out)
		for op, code := range out.Results {
			if code != CodeInvalidSignature {
				t.Errorf("botocore %s with a wrong secret: %q, want %s", op, code, CodeInvalidSignature)
			}
		}
	})
	t.Run("aws-sdk-go-v2", func(t *testing.T) {
		for op, err := range goSDKCalls(t, h.srv.URL, h.admin, arn) {
			if err != nil {
				t.Errorf("aws-sdk-go-v2 %s: %v", op, err)
			}
		}
	})
}

func expect(t *testing.T, what string, got result, code, message string) {
	t.Helper()
	if got.Status != http.StatusForbidden || got.Code != code || !strings.HasPrefix(got.Message, message) {
		t.Errorf("%s: got %d %s %q, want 403 %s %q", what, got.Status, got.Code, got.Message, code, message)
	}
}

func signedHeaders(r *http.Request) string {
	_, rest, _ := strings.Cut(r.Header.Get("Authorization"), "SignedHeaders=")
	s, _, _ := strings.Cut(rest, ",")
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestErrorIsForbidden: the type the HTTP layer renders.
func TestErrorIsForbidden(t *testing.T) {
	var err error = &Error{Code: CodeInvalidSignature, Message: "m"}
	var ae *Error
	if !errors.As(err, &ae) || ae.StatusCode() != http.StatusForbidden || err.Error() != "InvalidSignatureException: m" {
		t.Errorf("%v", err)
	}
}
