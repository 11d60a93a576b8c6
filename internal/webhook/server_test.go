package webhook

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

func TestURLHost(t *testing.T) {
	for _, tc := range []struct {
		option, listener, want string
	}{
		{"", "127.0.0.1:9443", "127.0.0.1:9443"},
		{"", "0.0.0.0:9443", "127.0.0.1:9443"},
		{"", "[::]:9443", "[::1]:9443"},
		{"10.0.0.5", "0.0.0.0:9443", "10.0.0.5:9443"},
		{"kdp.example.com", "0.0.0.0:9443", "kdp.example.com:9443"},
		{"kdp.example.com:443", "0.0.0.0:9443", "kdp.example.com:443"},
		{"[fd00::5]", "[::]:9443", "[fd00::5]:9443"},
	} {
		addr, err := net.ResolveTCPAddr("tcp", tc.listener)
		if err != nil {
			t.Fatal(err)
		}
		if got := urlHost(tc.option, addr); got != tc.want {
			t.Errorf("urlHost(%q, %s) = %s, want %s", tc.option, tc.listener, got, tc.want)
		}
	}
}

func TestNewReportsThePortItBound(t *testing.T) {
	s, err := New(&rest.Config{Host: "https://127.0.0.1:1"}, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.listener.Close()
	port := s.Addr().(*net.TCPAddr).Port
	if port == 0 || s.URL("/v") != "https://127.0.0.1:"+strconv.Itoa(port)+"/v" {
		t.Errorf("port %d, URL %s", port, s.URL("/v"))
	}
}

func TestOptionsEveryProblemAtOnce(t *testing.T) {
	_, err := New(&rest.Config{}, Options{CAValidity: 1, ServingValidity: 1, CheckInterval: 1})
	for _, want := range []string{"dir: not set", "caValidity (1ns)", "servingValidity (1ns)", "checkInterval (1ns)"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to say %q", err, want)
		}
	}
}

func TestAddRefuses(t *testing.T) {
	allow := admission.HandlerFunc(func(context.Context, admission.Request) admission.Response { return admission.Allowed("") })
	rules := []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create}}}
	good := Hook{Name: "a.test.kdp.dev", Path: "/a", Rules: rules, Handler: allow}
	s, err := New(&rest.Config{Host: "https://127.0.0.1:1"}, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.listener.Close()
	if err := s.Add(good); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		hook Hook
		want []string
	}{
		{Hook{Name: "a", Path: "b"}, []string{"not a qualified name", `path "b"`, "no rules", "no handler"}},
		{Hook{Name: "b.test.kdp.dev", Path: "/b", Rules: rules, Handler: allow, TimeoutSeconds: 31}, []string{"timeoutSeconds 31"}},
		{Hook{Name: "a.test.kdp.dev", Path: "/other", Rules: rules, Handler: allow}, []string{"already taken"}},
		{Hook{Name: "c.test.kdp.dev", Path: "/a", Rules: rules, Handler: allow}, []string{"already taken"}},
	} {
		err := s.Add(tc.hook)
		for _, want := range tc.want {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Add(%s %s): %v, want it to say %q", tc.hook.Name, tc.hook.Path, err, want)
			}
		}
	}
}
