package pki

import (
	"crypto/x509"
	"encoding/pem"
)

func encodeCert(cert *x509.Certificate) []byte { return pemBlock("CERTIFICATE", cert.Raw) }

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
