package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math"
	"math/big"
	"time"
)

// ClockSkew is how far back a certificate's NotBefore is set from the moment
// it is issued, so that a peer whose clock is a little behind accepts it.
const ClockSkew = 5 * time.Minute

// The functions below issue on a caller's clock and write nothing, for a
// caller that renews its certificates while it runs (the webhook server)
// rather than on start: it decides when, and where the files go.

// NewCA makes a self-signed CA valid from now for validity.
func NewCA(commonName string, now time.Time, validity time.Duration) (*CA, error) {
	key, err := newKey()
	if err != nil {
		return nil, fmt.Errorf("creating CA %s: %w", commonName, err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, fmt.Errorf("creating CA %s: %w", commonName, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-ClockSkew).UTC(),
		NotAfter:              now.Add(validity).UTC(),
		KeyUsage:              x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("creating CA %s: %w", commonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("creating CA %s: %w", commonName, err)
	}
	return &CA{Cert: cert, Key: key}, nil
}

// Issue signs a new key pair for spec, valid from now for validity but never
// past the CA's own expiry: after that nobody could verify it anyway, and a
// caller that renews on a fraction of the lifetime must see the real one.
func (ca *CA) Issue(spec LeafSpec, now time.Time, validity time.Duration) (*Leaf, error) {
	key, err := newKey()
	if err != nil {
		return nil, fmt.Errorf("issuing %s: %w", spec.CommonName, err)
	}
	notAfter := now.Add(validity)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	cert, err := ca.signAt(spec, key.Public(), now.Add(-ClockSkew), notAfter)
	if err != nil {
		return nil, fmt.Errorf("issuing %s: %w", spec.CommonName, err)
	}
	return &Leaf{Cert: cert, Key: key}, nil
}

// CrossSign issues other's certificate again (same subject, key and key id)
// signed by ca, valid while both are. A server that sends it after a leaf
// signed by other is verified by clients that trust only ca as well as by
// those that trust other: the way to move clients from one CA to the next
// without a moment in which some of them refuse the server.
func (ca *CA) CrossSign(other *x509.Certificate) (*x509.Certificate, error) {
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	notAfter := other.NotAfter
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               other.Subject,
		SubjectKeyId:          other.SubjectKeyId,
		NotBefore:             other.NotBefore,
		NotAfter:              notAfter,
		KeyUsage:              other.KeyUsage,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, other.PublicKey, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("cross-signing %s with %s: %w", other.Subject.CommonName, ca.Cert.Subject.CommonName, err)
	}
	return x509.ParseCertificate(der)
}

// LoadPair reads a certificate (the first of its file) and its key. When
// either file is missing the error satisfies errors.Is(err, os.ErrNotExist).
func LoadPair(certFile, keyFile string) (*x509.Certificate, crypto.Signer, error) {
	return load(certFile, keyFile)
}

// WritePair writes a key and its certificate, each atomically, the key
// first: a certificate on disk always has its key beside it.
func WritePair(certFile, keyFile string, cert *x509.Certificate, key crypto.Signer) error {
	return writePair(certFile, keyFile, cert, key)
}

// EncodeCert returns a certificate in PEM form.
func EncodeCert(cert *x509.Certificate) []byte { return encodeCert(cert) }

func newSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).SetInt64(math.MaxInt64-1))
	if err != nil {
		return nil, err
	}
	return serial.Add(serial, big.NewInt(1)), nil
}
