package webhook

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	stdlog "log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
)

// ReadyCheck passes once the configurations are registered and the server
// presents a certificate that verifies against their caBundle for the host
// the API server dials: from then on the API server can call every hook.
func (s *Server) ReadyCheck() healthz.Checker {
	return func(*http.Request) error {
		bundle := s.CABundle()
		if bundle == nil {
			return errors.New("webhook configurations not registered yet")
		}
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(bundle)
		host, _, _ := net.SplitHostPort(s.urlHost)
		dialer := &net.Dialer{Timeout: 5 * time.Second}
		conn, err := tls.DialWithDialer(dialer, "tcp", s.dialAddr(), &tls.Config{RootCAs: roots, ServerName: host})
		if err != nil {
			return fmt.Errorf("webhook server at %s: %w", s.dialAddr(), err)
		}
		return conn.Close()
	}
}

// dialAddr is the listener's address, loopback for an unspecified one.
func (s *Server) dialAddr() string {
	addr := s.listener.Addr().(*net.TCPAddr)
	return urlHost("", addr)
}

// errorLog sends net/http's own messages (a TLS handshake the API server
// failed, say: the first thing to read when a hook is not called) to the
// server's logger.
func errorLog(logger logr.Logger) *stdlog.Logger {
	return stdlog.New(logWriter{logger}, "", 0)
}

type logWriter struct{ logr.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.Info(strings.TrimSpace(string(p)))
	return len(p), nil
}
