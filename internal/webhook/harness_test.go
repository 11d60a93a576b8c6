package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"k8s.io/apimachinery/pkg/util/wait"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
)

// epoch is when the unit tests' fake clocks start.
var epoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// Short lifetimes for the unit tests; with pki.ClockSkew the lifetimes are
// 3h5m and 30h5m, divisible by 3 and 10 to the second.
const (
	testServingValidity = 3 * time.Hour
	testCAValidity      = 30 * time.Hour
)

// harness runs a Server on a fake clock with its registration recorded
// instead of applied: the rotation without an API server.
type harness struct {
	t   *testing.T
	clk *clocktesting.FakeClock
	s   *Server

	stop func() // stops the server, once

	mu sync.Mutex
	// registrations are the caBundles registered, each with the serving
	// certificate presented while it was.
	registrations []registration
	fail          error // registering fails with it while set
}

type registration struct {
	bundle  []*x509.Certificate
	serving *x509.Certificate
}

// newServer makes a Server on dir whose client is never used.
func newServer(t *testing.T, dir string, clk *clocktesting.FakeClock) (*Server, error) {
	return New(&rest.Config{Host: "https://127.0.0.1:1"}, Options{
		Dir: dir, Clock: clk, CAValidity: testCAValidity, ServingValidity: testServingValidity,
	})
}

// start runs a Server on dir from the fake clock's time until stop or the
// test's end. One server at a time runs on a clock: settle counts waiters.
func start(t *testing.T, dir string, clk *clocktesting.FakeClock) *harness {
	t.Helper()
	s, err := newServer(t, dir, clk)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, clk: clk, s: s}
	s.rotator.register = h.register
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()
	h.stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Start: %v", err)
		}
	})
	t.Cleanup(h.stop)
	h.settle()
	return h
}

func (h *harness) register(_ context.Context, caBundle []byte) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fail != nil {
		return h.fail
	}
	h.registrations = append(h.registrations, registration{parseBundle(h.t, caBundle), h.s.rotator.serving.Load().Leaf})
	return nil
}

func (h *harness) setFail(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fail = err
}

func (h *harness) lastRegistration() registration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.registrations[len(h.registrations)-1]
}

// stepTo moves the fake clock to t and waits for the server's check, if
// that woke it, to end.
func (h *harness) stepTo(t time.Time) {
	h.clk.SetTime(t)
	h.settle()
}

// settle waits until the server waits on its clock again: its timer is
// armed only after a check.
func (h *harness) settle() {
	h.t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return h.clk.HasWaiters(), nil
	})
	if err != nil {
		h.t.Fatal("the webhook server did not wait on its clock again within 10s")
	}
}

func (h *harness) ca() *x509.Certificate { return h.s.rotator.certs.ca.Cert }

// serving is the certificate a TLS client is presented now, verified
// against roots at the fake clock's time: it fails if none verifies.
func (h *harness) serving(roots ...*x509.Certificate) (*x509.Certificate, error) {
	pool := x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	conn, err := tls.Dial("tcp", h.s.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", Time: h.clk.Now})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0], nil
}

func (h *harness) mustServe(roots ...*x509.Certificate) *x509.Certificate {
	h.t.Helper()
	cert, err := h.serving(roots...)
	if err != nil {
		h.t.Fatalf("TLS handshake: %v", err)
	}
	return cert
}

func parseBundle(t *testing.T, b []byte) []*x509.Certificate {
	t.Helper()
	certs, err := parseCerts(b)
	if err != nil {
		t.Errorf("caBundle: %v", err)
	}
	return certs
}

func parseCerts(b []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		if block, b = pem.Decode(b); block == nil {
			return certs, nil
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, cert)
	}
}

func issuedBy(cert, ca *x509.Certificate) bool {
	return bytes.Equal(cert.RawIssuer, ca.RawSubject) && cert.CheckSignatureFrom(ca) == nil
}
