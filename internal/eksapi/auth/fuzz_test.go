package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	clocktesting "k8s.io/utils/clock/testing"
)

// staticKeys is a Keys of fixed credentials, so that seeds stay valid.
type staticKeys map[string]Credential

func (k staticKeys) Lookup(id string) (Credential, bool) { c, ok := k[id]; return c, ok }

var fuzzCred = Credential{Name: "admin", AccessKeyID: "AKIAIOSFODNN7EXAMPLE",
	SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ARN: "arn:aws:iam::111122223333:user/admin"}

// signedAsServed is a request signed by aws-sdk-go-v2 as Go's server hands
// it to a handler.
func signedAsServed(tb testing.TB, cred Credential, method, target, body string, header map[string]string) *http.Request {
	tb.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	for k, v := range header {
		r.Header.Set(k, v)
	}
	creds := aws.Credentials{AccessKeyID: cred.AccessKeyID, SecretAccessKey: cred.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, sha256Hex(body), "eks", testRegion, now); err != nil {
		tb.Fatal(err)
	}
	return r
}

// FuzzVerify: whatever a client sends, Verify returns a credential or an
// *Error with status 403, and never panics.
func FuzzVerify(f *testing.F) {
	for _, q := range requests {
		target := q.path
		if q.query != "" {
			target += "?" + q.query
		}
		r := signedAsServed(f, fuzzCred, q.method, target, q.body, q.header)
		f.Add(q.method, target, r.Header.Get("Authorization"), r.Header.Get("X-Amz-Date"), r.Header.Get("Content-Type"), q.body)
	}
	f.Add("GET", "/clusters?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261202%2Fus-west-2%2Feks%2Faws4_request"+
		"&X-Amz-Date=20261202T103511Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=00", "", "", "", "")
	f.Add("POST", "/", "AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=", "20261202T103511Z", "", "{}")
	f.Add("GET", "/", "AWS4-HMAC-SHA256 ,,,=,Credential==/", "x", "", "")

	v := &Verifier{Store: staticKeys{fuzzCred.AccessKeyID: fuzzCred}, Region: testRegion, Clock: clocktesting.NewFakePassiveClock(now)}
	f.Fuzz(func(t *testing.T, method, target, authz, date, contentType, body string) {
		u, err := url.ParseRequestURI(target)
		if err != nil || method == "" || strings.ContainsAny(method, " \r\n") {
			return // Go's server answers 400 before any handler
		}
		r := &http.Request{Method: method, URL: u, RequestURI: target, Host: "example.com",
			Header: http.Header{}, ContentLength: int64(len(body))}
		for k, val := range map[string]string{"Authorization": authz, "X-Amz-Date": date, "Content-Type": contentType} {
			if val != "" {
				r.Header.Set(k, val)
			}
		}
		cred, err := v.Verify(r, []byte(body))
		if err == nil {
			if cred.AccessKeyID != fuzzCred.AccessKeyID {
				t.Fatalf("Verify accepted with %+v", cred)
			}
			return
		}
		var ae *Error
		if !errors.As(err, &ae) || ae.StatusCode() != http.StatusForbidden {
			t.Fatalf("Verify returned %T %v", err, err)
		}
		switch ae.Code {
		case CodeMissingAuthenticationToken, CodeIncompleteSignature, CodeUnrecognizedClient, CodeInvalidSignature:
		default:
			t.Fatalf("code %q", ae.Code)
		}
		if strings.Contains(ae.Message, fuzzCred.SecretAccessKey) {
			t.Fatalf("the message holds the secret: %q", ae.Message)
		}
	})
}

// TestFuzzSeedsVerify: the seeds built from signed requests are accepted, so
// the fuzzer starts from valid signatures.
func TestFuzzSeedsVerify(t *testing.T) {
	v := &Verifier{Store: staticKeys{fuzzCred.AccessKeyID: fuzzCred}, Region: testRegion, Clock: clocktesting.NewFakePassiveClock(now)}
	for name, q := range requests {
		target := q.path
		if q.query != "" {
			target += "?" + q.query
		}
		r := signedAsServed(t, fuzzCred, q.method, target, q.body, q.header)
		if _, err := v.Verify(r, []byte(q.body)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// BenchmarkVerify: one POST with a JSON body, verified against a credentials
// file (a stat per request) on the clock it was signed at.
func BenchmarkVerify(b *testing.B) {
	store, err := Open(filepath.Join(b.TempDir(), "credentials.json"), settings)
	if err != nil {
		b.Fatal(err)
	}
	c, err := store.Create("admin")
	if err != nil {
		b.Fatal(err)
	}
	q := requests["POST to a path with an encoded ARN"]
	r := signedAsServed(b, c, q.method, q.path, q.body, q.header)
	body := []byte(q.body)
	v := &Verifier{Store: store, Region: testRegion, Clock: clocktesting.NewFakePassiveClock(now)}
	if _, err := v.Verify(r, body); err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(r, body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := v.Verify(r, body); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
