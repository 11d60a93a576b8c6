package webhook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kdp-project/kdp/internal/pki"
)

// A server started again on the same directory presents the same
// certificates, the previous CA included.
func TestRestartKeepsCertificates(t *testing.T) {
	dir, clk := t.TempDir(), clocktesting.NewFakeClock(epoch)
	first := start(t, dir, clk)
	firstCA, firstServing := first.ca(), first.mustServe(first.ca())
	first.stop()

	second := start(t, dir, clk)
	if !second.ca().Equal(firstCA) || !second.mustServe(firstCA).Equal(firstServing) {
		t.Fatal("a second server on the same directory issued new certificates")
	}

	// After a CA rotation, the bundle keeps both CAs across the restart.
	second.stepTo(renewAt(firstCA, caRenewPart))
	second.stop()
	third := start(t, dir, clk)
	if reg := third.lastRegistration(); len(reg.bundle) != 2 || !reg.bundle[1].Equal(firstCA) {
		t.Fatalf("caBundle after a restart: %d CAs, want the new and the previous", len(reg.bundle))
	}
	if _, err := third.serving(firstCA); err != nil {
		t.Errorf("after the restart an API server with the old bundle refuses the server: %v", err)
	}
}

// rotatedDir fills dir as a server leaves it after one CA rotation.
func rotatedDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	c, err := loadCerts(dir, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		c.newCA(epoch, testCAValidity),
		c.newCA(epoch.Add(28*time.Hour), testCAValidity),
		c.issueServing(epoch.Add(28*time.Hour), testServingValidity),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A file that cannot be parsed stops the server with an error naming it.
func TestCorruptFileNamed(t *testing.T) {
	for _, file := range []string{"ca.crt", "ca.key", "ca-previous.crt", "ca-previous.key", "tls.crt", "tls.key"} {
		t.Run(file, func(t *testing.T) {
			dir := rotatedDir(t)
			path := filepath.Join(dir, file)
			if err := os.WriteFile(path, []byte("-----BEGIN NONSENSE-----\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := newServer(t, dir, clocktesting.NewFakeClock(epoch))
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %v, want one naming %s", err, path)
			}
		})
	}
}

// A CA key that is not its certificate's is an error naming both, unless
// it is what a rotation stopped half-way leaves, which is done again.
func TestCAKeyMismatch(t *testing.T) {
	other, err := pki.NewCA("other", epoch, testCAValidity)
	if err != nil {
		t.Fatal(err)
	}
	writeKey := func(t *testing.T, dir string) {
		t.Helper()
		cert, _, err := pki.LoadPair(filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key"))
		if err != nil {
			t.Fatal(err)
		}
		if err := pki.WritePair(filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key"), cert, other.Key); err != nil {
			t.Fatal(err)
		}
	}

	dir := rotatedDir(t)
	writeKey(t, dir)
	_, err = newServer(t, dir, clocktesting.NewFakeClock(epoch))
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "ca.key")) || !strings.Contains(err.Error(), filepath.Join(dir, "ca.crt")) {
		t.Fatalf("error %v, want one naming ca.key and ca.crt", err)
	}

	// Stopped after the previous CA and the new key were written: ca.crt
	// is still the previous CA's.
	dir = rotatedDir(t)
	prev, err := os.ReadFile(filepath.Join(dir, "ca-previous.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), prev, 0o644); err != nil {
		t.Fatal(err)
	}
	writeKey(t, dir)
	h := start(t, dir, clocktesting.NewFakeClock(epoch.Add(28*time.Hour)))
	if reg := h.lastRegistration(); len(reg.bundle) != 2 || !reg.bundle[1].Equal(parseBundle(t, prev)[0]) {
		t.Fatalf("after a rotation stopped half-way: caBundle of %d CAs, want a new one and the previous", len(reg.bundle))
	}
}
