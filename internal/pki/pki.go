// Package pki creates and loads the certificates and kubeconfigs of a kdp
// cluster. Everything is created on first start and reused afterwards; a
// file is written to a temporary name and renamed into place, so a crash
// never leaves half a key behind.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
)

// Validity of the certificates kdp issues. The CAs outlive the leaves, which
// are re-issued on start when they come within RenewBefore of expiry.
const (
	CAValidity   = 10 * 365 * 24 * time.Hour
	LeafValidity = 365 * 24 * time.Hour
	RenewBefore  = 30 * 24 * time.Hour
)

// CA is a certificate authority whose key kdp holds.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// CertFile and KeyFile are where the pair lives on disk.
	CertFile, KeyFile string
}

// LoadOrCreateCA loads the CA at dir/name.{crt,key}, or creates it.
func LoadOrCreateCA(dir, name, commonName string) (*CA, error) {
	certFile, keyFile := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if cert, key, err := load(certFile, keyFile); err == nil {
		return &CA{Cert: cert, Key: key, CertFile: certFile, KeyFile: keyFile}, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("loading CA %s: %w", certFile, err)
	}
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	cert, err := certutil.NewSelfSignedCACert(certutil.Config{CommonName: commonName}, key)
	if err != nil {
		return nil, fmt.Errorf("creating CA %s: %w", name, err)
	}
	if err := writePair(certFile, keyFile, cert, key); err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, CertFile: certFile, KeyFile: keyFile}, nil
}

// CertPEM returns the CA certificate in PEM form.
func (ca *CA) CertPEM() []byte { return encodeCert(ca.Cert) }

// LeafSpec describes a certificate signed by a CA.
type LeafSpec struct {
	CommonName   string
	Organization []string
	DNSNames     []string
	IPs          []net.IP
	Server       bool
	Client       bool
}

// Leaf is a signed certificate and its key, as loaded or written.
type Leaf struct {
	Cert              *x509.Certificate
	Key               crypto.Signer
	CertFile, KeyFile string
}

// CertPEM and KeyPEM return the pair in PEM form.
func (l *Leaf) CertPEM() []byte { return encodeCert(l.Cert) }
func (l *Leaf) KeyPEM() []byte {
	b, _ := keyutil.MarshalPrivateKeyToPEM(l.Key)
	return b
}

// LoadOrIssue loads dir/name.{crt,key} if it was signed by ca, matches spec
// and is not close to expiry; otherwise it issues a new pair.
func (ca *CA) LoadOrIssue(dir, name string, spec LeafSpec) (*Leaf, error) {
	certFile, keyFile := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	cert, key, err := load(certFile, keyFile)
	switch {
	case err == nil && ca.issued(cert) && matches(cert, spec) && time.Until(cert.NotAfter) > RenewBefore:
		return &Leaf{Cert: cert, Key: key, CertFile: certFile, KeyFile: keyFile}, nil
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("loading %s: %w", certFile, err)
	}
	if key == nil {
		if key, err = newKey(); err != nil {
			return nil, err
		}
	}
	cert, err = ca.sign(spec, key.Public())
	if err != nil {
		return nil, fmt.Errorf("issuing %s: %w", name, err)
	}
	if err := writePair(certFile, keyFile, cert, key); err != nil {
		return nil, err
	}
	return &Leaf{Cert: cert, Key: key, CertFile: certFile, KeyFile: keyFile}, nil
}

func (ca *CA) issued(cert *x509.Certificate) bool {
	return cert.CheckSignatureFrom(ca.Cert) == nil
}

func matches(cert *x509.Certificate, spec LeafSpec) bool {
	if cert.Subject.CommonName != spec.CommonName || !slices.Equal(cert.Subject.Organization, spec.Organization) {
		return false
	}
	if !slices.Equal(cert.DNSNames, spec.DNSNames) || len(cert.IPAddresses) != len(spec.IPs) {
		return false
	}
	for i, ip := range spec.IPs {
		if !cert.IPAddresses[i].Equal(ip) {
			return false
		}
	}
	return true
}

func (ca *CA) sign(spec LeafSpec, pub crypto.PublicKey) (*x509.Certificate, error) {
	now := time.Now()
	return ca.signAt(spec, pub, now.Add(-ClockSkew), now.Add(LeafValidity))
}

func (ca *CA) signAt(spec LeafSpec, pub crypto.PublicKey, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	var usages []x509.ExtKeyUsage
	if spec.Server {
		usages = append(usages, x509.ExtKeyUsageServerAuth)
	}
	if spec.Client {
		usages = append(usages, x509.ExtKeyUsageClientAuth)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: spec.CommonName, Organization: spec.Organization},
		DNSNames:     spec.DNSNames,
		IPAddresses:  spec.IPs,
		NotBefore:    notBefore.UTC(),
		NotAfter:     notAfter.UTC(),
		KeyUsage:     x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  usages,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.Key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// LoadOrCreateKeyPair loads or creates a bare key pair (the service-account
// signing key): dir/name.key and dir/name.pub.
func LoadOrCreateKeyPair(dir, name string) (keyFile, pubFile string, err error) {
	keyFile, pubFile = filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pub")
	if _, err := keyutil.PrivateKeyFromFile(keyFile); err == nil {
		if _, err := keyutil.PublicKeysFromFile(pubFile); err == nil {
			return keyFile, pubFile, nil
		}
	}
	key, err := newKey()
	if err != nil {
		return "", "", err
	}
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		return "", "", err
	}
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return "", "", err
	}
	pubPEM := pemBlock("PUBLIC KEY", der)
	if err := WriteFileAtomic(keyFile, keyPEM, 0o600); err != nil {
		return "", "", err
	}
	return keyFile, pubFile, WriteFileAtomic(pubFile, pubPEM, 0o644)
}

// newKey makes an ECDSA P-256 key: as strong as RSA-3072 for TLS, and
// generated in microseconds rather than the tens of milliseconds RSA takes,
// which matters for a first start that issues a dozen certificates.
func newKey() (crypto.Signer, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

func load(certFile, keyFile string) (*x509.Certificate, crypto.Signer, error) {
	certs, err := certutil.CertsFromFile(certFile)
	if err != nil {
		if _, statErr := os.Stat(certFile); errors.Is(statErr, os.ErrNotExist) {
			return nil, nil, statErr
		}
		return nil, nil, err
	}
	k, err := keyutil.PrivateKeyFromFile(keyFile)
	if err != nil {
		if _, statErr := os.Stat(keyFile); errors.Is(statErr, os.ErrNotExist) {
			return nil, nil, statErr
		}
		return nil, nil, err
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("%s: not a signing key", keyFile)
	}
	return certs[0], signer, nil
}

func writePair(certFile, keyFile string, cert *x509.Certificate, key crypto.Signer) error {
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		return err
	}
	// Key first: a cert on disk always has its key beside it.
	if err := WriteFileAtomic(keyFile, keyPEM, 0o600); err != nil {
		return err
	}
	return WriteFileAtomic(certFile, encodeCert(cert), 0o644)
}

// WriteFileAtomic writes data to a temporary file in the same directory,
// syncs it and renames it over path.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
