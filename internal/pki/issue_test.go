package pki

import (
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var epoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func newCA(t *testing.T, name string, now time.Time, validity time.Duration) *CA {
	t.Helper()
	ca, err := NewCA(name, now, validity)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestIssueOnTheCallersClock(t *testing.T) {
	ca := newCA(t, "test-ca", epoch, 10*time.Hour)
	if !ca.Cert.IsCA || !ca.Cert.NotBefore.Equal(epoch.Add(-ClockSkew)) || !ca.Cert.NotAfter.Equal(epoch.Add(10*time.Hour)) {
		t.Fatalf("CA: IsCA %v, valid %s to %s", ca.Cert.IsCA, ca.Cert.NotBefore, ca.Cert.NotAfter)
	}
	spec := LeafSpec{CommonName: "server", IPs: []net.IP{net.ParseIP("127.0.0.1")}, Server: true}

	leaf, err := ca.Issue(spec, epoch.Add(time.Hour), 3*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !leaf.Cert.NotAfter.Equal(epoch.Add(4 * time.Hour)) {
		t.Errorf("leaf NotAfter %s, want issue time + validity", leaf.Cert.NotAfter)
	}
	if !ca.issued(leaf.Cert) || !matches(leaf.Cert, spec) {
		t.Error("leaf not issued by the CA for the spec")
	}

	// A leaf that would outlive its CA ends with it.
	late, err := ca.Issue(spec, epoch.Add(9*time.Hour), 3*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !late.Cert.NotAfter.Equal(ca.Cert.NotAfter) {
		t.Errorf("leaf NotAfter %s, want the CA's %s", late.Cert.NotAfter, ca.Cert.NotAfter)
	}
}

// A leaf of the new CA, sent with the new CA cross-signed by the old one,
// verifies for clients that trust either.
func TestCrossSign(t *testing.T) {
	prev := newCA(t, "old", epoch, 10*time.Hour)
	next := newCA(t, "new", epoch.Add(9*time.Hour), 10*time.Hour)
	leaf, err := next.Issue(LeafSpec{CommonName: "server", DNSNames: []string{"webhook.test"}, Server: true}, epoch.Add(9*time.Hour), 3*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cross, err := prev.CrossSign(next.Cert)
	if err != nil {
		t.Fatal(err)
	}
	if !cross.NotAfter.Equal(prev.Cert.NotAfter) {
		t.Errorf("cross-signed CA ends %s, want with the old CA at %s", cross.NotAfter, prev.Cert.NotAfter)
	}
	intermediates := x509.NewCertPool()
	intermediates.AddCert(cross)
	for name, root := range map[string]*x509.Certificate{"old": prev.Cert, "new": next.Cert} {
		roots := x509.NewCertPool()
		roots.AddCert(root)
		_, err := leaf.Cert.Verify(x509.VerifyOptions{
			DNSName: "webhook.test", Roots: roots, Intermediates: intermediates,
			CurrentTime: epoch.Add(9*time.Hour + time.Minute),
		})
		if err != nil {
			t.Errorf("a client trusting only the %s CA: %v", name, err)
		}
	}
	roots := x509.NewCertPool()
	roots.AddCert(prev.Cert)
	if _, err := leaf.Cert.Verify(x509.VerifyOptions{DNSName: "webhook.test", Roots: roots, CurrentTime: epoch.Add(9*time.Hour + time.Minute)}); err == nil {
		t.Error("without the cross-signed CA, a client trusting only the old CA accepted the new CA's leaf")
	}
}

func TestLoadAndWritePair(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "x.crt"), filepath.Join(dir, "x.key")
	if _, _, err := LoadPair(certFile, keyFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing pair: %v, want ErrNotExist", err)
	}
	ca := newCA(t, "test-ca", epoch, time.Hour)
	if err := WritePair(certFile, keyFile, ca.Cert, ca.Key); err != nil {
		t.Fatal(err)
	}
	cert, _, err := LoadPair(certFile, keyFile)
	if err != nil || !cert.Equal(ca.Cert) {
		t.Fatalf("loaded %v, %v", cert, err)
	}
}
