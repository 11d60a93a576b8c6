package webhook

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/kdp-project/kdp/internal/pki"
)

// The pairs in Options.Dir, each name.crt and name.key. The previous CA is
// kept, key too, until it expires: its certificate stays in the caBundle,
// and its key cross-signs the current CA.
const (
	caName       = "ca"
	previousName = "ca-previous"
	servingName  = "tls"
)

const servingCommonName = "kdp-webhook"

// certs are the server's CA, the CA before it and the serving certificate,
// as they are in the directory: every change is written before it is used.
type certs struct {
	dir  string
	host string // what the API server dials, the serving certificate's SAN

	ca       *pki.CA
	previous *pki.CA // nil when there is none
	// cross is the current CA signed by the previous one, sent after a
	// serving certificate of the current CA: an API server that has not
	// yet seen the new caBundle verifies the server through it.
	cross   *x509.Certificate
	serving *pki.Leaf // nil until issued
}

// loadCerts reads what the directory holds; it creates nothing (see
// rotator.prepare). A file that cannot be read or parsed is an error that
// names it; a pair that is missing a file is treated as absent.
func loadCerts(dir, host string) (*certs, error) {
	c := &certs{dir: dir, host: host}
	cert, key, err := loadPair(dir, previousName)
	if err != nil {
		return nil, err
	}
	// A mismatch is a rotation stopped between the two files (WritePair
	// writes the key first): the current CA is still the one it was moving
	// out, so it is moved again.
	if cert != nil && keyMatches(cert, key) {
		c.previous = &pki.CA{Cert: cert, Key: key}
	}
	if cert, key, err = loadPair(dir, caName); err != nil {
		return nil, err
	}
	switch {
	case cert == nil:
	case keyMatches(cert, key):
		c.ca = &pki.CA{Cert: cert, Key: key}
	case c.previous != nil && c.previous.Cert.Equal(cert):
		// A rotation stopped between the new CA's key and its certificate,
		// after the old one was kept as the previous: it starts again.
	default:
		return nil, fmt.Errorf("%s is not the key of %s", c.file(caName, ".key"), c.file(caName, ".crt"))
	}
	if cert, key, err = loadPair(dir, servingName); err != nil {
		return nil, err
	}
	if cert != nil && keyMatches(cert, key) {
		c.serving = &pki.Leaf{Cert: cert, Key: key}
	}
	if err := c.crossSign(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *certs) file(name, ext string) string { return filepath.Join(c.dir, name+ext) }

// loadPair returns nil, nil, nil when either file of the pair is missing.
func loadPair(dir, name string) (*x509.Certificate, crypto.Signer, error) {
	certFile, keyFile := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	cert, key, err := pki.LoadPair(certFile, keyFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	return cert, key, err
}

func keyMatches(cert *x509.Certificate, key crypto.Signer) bool {
	pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(key.Public())
}

// newCA makes a new CA and keeps the current one as the previous. The
// previous is written first: stopped after it, the next start finds the
// old CA in both places and rotates again.
func (c *certs) newCA(now time.Time, validity time.Duration) error {
	next, err := pki.NewCA(fmt.Sprintf("kdp-webhook-ca@%d", now.Unix()), now, validity)
	if err != nil {
		return err
	}
	if c.ca != nil {
		if err := c.write(previousName, c.ca.Cert, c.ca.Key); err != nil {
			return err
		}
		c.previous = c.ca
	}
	if err := c.write(caName, next.Cert, next.Key); err != nil {
		return err
	}
	c.ca = next
	return c.crossSign()
}

// dropPrevious forgets the previous CA, certificate first: a key alone is
// an absent pair.
func (c *certs) dropPrevious() error {
	for _, ext := range []string{".crt", ".key"} {
		if err := os.Remove(c.file(previousName, ext)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing the expired webhook CA: %w", err)
		}
	}
	c.previous, c.cross = nil, nil
	return nil
}

func (c *certs) issueServing(now time.Time, validity time.Duration) error {
	spec := pki.LeafSpec{CommonName: servingCommonName, Server: true}
	if ip := net.ParseIP(c.host); ip != nil {
		spec.IPs = []net.IP{ip}
	} else {
		spec.DNSNames = []string{c.host}
	}
	leaf, err := c.ca.Issue(spec, now, validity)
	if err != nil {
		return err
	}
	if err := c.write(servingName, leaf.Cert, leaf.Key); err != nil {
		return err
	}
	c.serving = leaf
	return nil
}

func (c *certs) write(name string, cert *x509.Certificate, key crypto.Signer) error {
	if err := pki.WritePair(c.file(name, ".crt"), c.file(name, ".key"), cert, key); err != nil {
		return fmt.Errorf("writing %s: %w", c.file(name, ".crt"), err)
	}
	return nil
}

func (c *certs) crossSign() error {
	c.cross = nil
	if c.previous == nil || c.ca == nil {
		return nil
	}
	cross, err := c.previous.CrossSign(c.ca.Cert)
	if err != nil {
		return err
	}
	c.cross = cross
	return nil
}

// usable says whether the serving certificate can be served at now: an API
// server that has either CA of the bundle accepts it for the host.
func (c *certs) usable(now time.Time) bool {
	s := c.serving
	if s == nil || !now.Before(s.Cert.NotAfter) || s.Cert.VerifyHostname(c.host) != nil {
		return false
	}
	return c.servingFromCurrent() || (c.previous != nil && s.Cert.CheckSignatureFrom(c.previous.Cert) == nil)
}

func (c *certs) servingFromCurrent() bool {
	return c.serving != nil && c.ca != nil && c.serving.Cert.CheckSignatureFrom(c.ca.Cert) == nil
}

// bundle is the caBundle of the configurations: the current CA, and the
// previous one while it lasts.
func (c *certs) bundle() []byte {
	var b bytes.Buffer
	b.Write(c.ca.CertPEM())
	if c.previous != nil {
		b.Write(c.previous.CertPEM())
	}
	return b.Bytes()
}

// tlsCertificate is what the server presents: the serving certificate,
// with the cross-signed CA when the current CA issued it.
func (c *certs) tlsCertificate() *tls.Certificate {
	chain := [][]byte{c.serving.Cert.Raw}
	if c.cross != nil && c.servingFromCurrent() {
		chain = append(chain, c.cross.Raw)
	}
	return &tls.Certificate{Certificate: chain, PrivateKey: c.serving.Key, Leaf: c.serving.Cert}
}

// renewAt is the moment less than 1/part of cert's lifetime remains.
func renewAt(cert *x509.Certificate, part time.Duration) time.Time {
	return cert.NotAfter.Add(-cert.NotAfter.Sub(cert.NotBefore) / part)
}
