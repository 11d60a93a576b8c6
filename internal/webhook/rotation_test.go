package webhook

import (
	"errors"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

// The serving certificate is renewed when a third of its lifetime remains:
// not a nanosecond before, and the next handshake presents the new one.
func TestServingCertRenewedAtTwoThirds(t *testing.T) {
	h := start(t, t.TempDir(), clocktesting.NewFakeClock(epoch))
	first := h.mustServe(h.ca())
	lifetime := first.NotAfter.Sub(first.NotBefore)
	at := first.NotBefore.Add(2 * lifetime / 3)
	// Backdated by pki.ClockSkew: valid from epoch-5m for 3h5m.
	if want := epoch.Add(-5*time.Minute + 2*time.Hour + 3*time.Minute + 20*time.Second); !at.Equal(want) {
		t.Fatalf("renewal moment %s, want %s", at, want)
	}

	h.stepTo(at.Add(-time.Nanosecond))
	if got := h.mustServe(h.ca()); !got.Equal(first) {
		t.Fatalf("serving certificate renewed at %s, before two thirds of its lifetime (%s)", h.clk.Now(), at)
	}
	h.stepTo(at)
	renewed := h.mustServe(h.ca())
	if renewed.Equal(first) {
		t.Fatalf("serving certificate not renewed at %s", at)
	}
	if !renewed.NotAfter.Equal(at.Add(testServingValidity)) || !issuedBy(renewed, h.ca()) {
		t.Errorf("renewed certificate valid until %s (want %s), issued by the CA: %v", renewed.NotAfter, at.Add(testServingValidity), issuedBy(renewed, h.ca()))
	}
	if n := len(h.lastRegistration().bundle); n != 1 {
		t.Errorf("caBundle holds %d CAs, want 1", n)
	}
}

// The CA is renewed in the last tenth of its lifetime. The new one joins
// the old in the caBundle, and signs the serving certificate only once that
// bundle is registered; the old one leaves the bundle when it expires.
func TestCARotation(t *testing.T) {
	h := start(t, t.TempDir(), clocktesting.NewFakeClock(epoch))
	oldCA := h.ca()
	at := renewAt(oldCA, caRenewPart)
	if want := oldCA.NotAfter.Add(-3*time.Hour - 30*time.Second); !at.Equal(want) { // a tenth of 30h5m
		t.Fatalf("CA renewal moment %s, want %s", at, want)
	}

	h.stepTo(at.Add(-time.Nanosecond))
	if !h.ca().Equal(oldCA) || len(h.lastRegistration().bundle) != 1 {
		t.Fatalf("CA renewed at %s, before the last tenth of its lifetime (%s)", h.clk.Now(), at)
	}
	h.stepTo(at)
	newCA := h.ca()
	if newCA.Equal(oldCA) {
		t.Fatalf("CA not renewed at %s", at)
	}
	reg := h.lastRegistration()
	if len(reg.bundle) != 2 || !reg.bundle[0].Equal(newCA) || !reg.bundle[1].Equal(oldCA) {
		t.Fatalf("caBundle after the renewal: %d CAs, want the new and the old", len(reg.bundle))
	}
	if !issuedBy(reg.serving, oldCA) {
		t.Error("the new CA signed the serving certificate before the bundle with it was registered")
	}
	// Now signed by the new CA, and verified by API servers with either
	// bundle: the old one's through the cross-signed CA.
	if got := h.mustServe(newCA); !issuedBy(got, newCA) {
		t.Error("serving certificate not renewed by the new CA after the registration")
	}
	if _, err := h.serving(oldCA); err != nil {
		t.Errorf("an API server with only the old CA refuses the server: %v", err)
	}

	h.stepTo(oldCA.NotAfter.Add(-time.Nanosecond))
	if n := len(h.lastRegistration().bundle); n != 2 {
		t.Fatalf("caBundle holds %d CAs before the old CA expired, want 2", n)
	}
	h.stepTo(oldCA.NotAfter)
	if reg := h.lastRegistration(); len(reg.bundle) != 1 || !reg.bundle[0].Equal(newCA) {
		t.Fatalf("caBundle after the old CA expired: %d CAs, want only the new", len(reg.bundle))
	}
	got := h.mustServe(newCA)
	if state := h.s.rotator.serving.Load(); len(state.Certificate) != 1 || !issuedBy(got, newCA) {
		t.Errorf("served chain of %d certificates after the old CA expired, want the serving certificate alone", len(state.Certificate))
	}
}

// While the bundle with the new CA cannot be registered, the server keeps
// presenting the certificate of the old one, and tries again.
func TestCARotationWaitsForRegistration(t *testing.T) {
	h := start(t, t.TempDir(), clocktesting.NewFakeClock(epoch))
	oldCA := h.ca()
	at := renewAt(oldCA, caRenewPart)
	h.stepTo(at.Add(-time.Nanosecond)) // a serving certificate of the old CA, fresh
	h.setFail(errors.New("API server unavailable"))
	h.stepTo(at)
	if h.ca().Equal(oldCA) {
		t.Fatal("CA not renewed")
	}
	if got := h.mustServe(oldCA); !issuedBy(got, oldCA) {
		t.Fatal("serving certificate of the new CA presented before its bundle was registered")
	}

	h.setFail(nil)
	h.stepTo(h.clk.Now().Add(retryInterval - time.Nanosecond))
	if got := h.mustServe(oldCA); !issuedBy(got, oldCA) {
		t.Fatal("registration retried before retryInterval")
	}
	h.stepTo(h.clk.Now().Add(time.Nanosecond))
	if n := len(h.lastRegistration().bundle); n != 2 {
		t.Fatalf("caBundle holds %d CAs after the retry, want 2", n)
	}
	if got := h.mustServe(h.ca()); !issuedBy(got, h.ca()) {
		t.Error("serving certificate not renewed by the new CA after the retry registered its bundle")
	}
}
