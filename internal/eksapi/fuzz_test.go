package eksapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/kdp-project/kdp/internal/eks"
	"github.com/kdp-project/kdp/internal/eksapi/auth"
)

// acceptAll authenticates every request, so that the fuzzer reaches the
// decoding.
type acceptAll struct{}

func (acceptAll) Verify(*http.Request, []byte) (auth.Credential, error) {
	return auth.Credential{Name: "fuzz", AccessKeyID: "AKIAFUZZ", ARN: "arn:aws:iam::111122223333:user/fuzz"}, nil
}

// FuzzServe: any method, path, query, header and body through the whole
// handler: it never panics, always answers a JSON object with a request
// id, and answers a 5xx only when the API returned a fault.
func FuzzServe(f *testing.F) {
	f.Add("GET", "/clusters/kdp/node-groups/web", "", "", []byte(nil), uint8(0))
	f.Add("POST", "/clusters/kdp/node-groups", "", "application/json", []byte(`{"nodegroupName":"web","nodeRole":"r","subnets":["s"],"scalingConfig":{"minSize":1}}`), uint8(0))
	f.Add("DELETE", "/tags/arn%3Aaws%3Aeks%3Aus-west-2%3A1%3Acluster%2Fkdp", "tagKeys=a&tagKeys=b", "", []byte(nil), uint8(2))
	f.Add("GET", "/clusters", "maxResults=0&nextToken=%zz", "", []byte("{"), uint8(1))
	f.Add("POST", "/clusters/kdp/node-groups/web/update-config", "", "application/json", []byte(`{"labels":{"addOrUpdateLabels":{"a":"b"}},"taints":{"addOrUpdateTaints":[{"key":""}]}}`), uint8(3))
	f.Add("POST", "/clusters", "", "", []byte(`{"name":"x"}`), uint8(0))
	f.Fuzz(func(t *testing.T, method, path, query, contentType string, body []byte, mode uint8) {
		u, err := url.Parse("http://eks.us-west-2.amazonaws.com" + path)
		if err != nil || u.Host != "eks.us-west-2.amazonaws.com" || !validMethod(method) {
			return // not a request: net/http refuses it before any handler
		}
		u.RawQuery = query
		mode %= 4
		called := false
		api := newFakeAPI()
		api.onCall = func(string) error {
			called = true
			switch mode {
			case 1:
				return errors.New("a fault")
			case 2:
				return &eks.Error{Code: eks.CodeResourceInUse, Message: "in use", ClusterName: "kdp"}
			case 3:
				return errPanic
			}
			return nil
		}
		s := New(Options{API: api, Verifier: acceptAll{}, MaxBodyBytes: 4096})
		req := &http.Request{Method: method, URL: u, Header: http.Header{}, Body: http.NoBody, Host: u.Host, RemoteAddr: "192.0.2.1:1234", RequestURI: u.RequestURI()}
		if len(body) > 0 {
			req.Body, req.ContentLength = httpBody(body), int64(len(body))
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code >= 500 && !(called && mode != 0) {
			t.Fatalf("%s %s?%s %q: %d %s", method, path, query, body, w.Code, w.Body)
		}
		if len(w.Header().Get("X-Amzn-Requestid")) != 36 || w.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("headers %v", w.Header())
		}
		var obj map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &obj); err != nil {
			t.Fatalf("%s %s: the body is not a JSON object: %q", method, path, w.Body)
		}
	})
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c <= ' ' || c >= 0x7f || bytes.ContainsRune([]byte(`"(),/:;<=>?@[\]{}`), c) {
			return false
		}
	}
	return true
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func httpBody(b []byte) readCloser { return readCloser{bytes.NewReader(b)} }
