package eksapi

import (
	"context"
	"crypto/tls"
	"errors"
	"log"
	"net"
	"net/http"
	"time"

	"k8s.io/klog/v2"
)

// The HTTP server's limits: a slow client times out rather than holding a
// connection (ReadTimeout covers a body of MaxBodyBytes); a long wait is
// the Service's, bounded by WriteTimeout.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = 60 * time.Second
	IdleTimeout       = 2 * time.Minute
	MaxHeaderBytes    = 64 << 10
	// ShutdownTimeout bounds how long Serve waits for requests in flight
	// once its context ends.
	ShutdownTimeout = 10 * time.Second
)

// HTTPServer is an http.Server for h with the limits above, serving TLS
// with tlsConfig when it is not nil.
func HTTPServer(h http.Handler, tlsConfig *tls.Config) *http.Server {
	return &http.Server{
		Handler:           h,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          log.New(klogWriter{}, "", 0),
	}
}

// Serve serves h on ln (which it closes) until ctx ends, then shuts down
// gracefully: it stops accepting, lets requests in flight finish for up
// to ShutdownTimeout, and returns nil. It returns the error of a server
// that failed on its own.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, tlsConfig *tls.Config) error {
	srv := HTTPServer(h, tlsConfig)
	errc := make(chan error, 1)
	go func() {
		var err error
		if tlsConfig != nil {
			err = srv.ServeTLS(ln, "", "")
		} else {
			err = srv.Serve(ln)
		}
		errc <- err
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// klogWriter sends net/http's own messages (TLS handshake errors, say) to
// klog at V(2): they are about clients.
type klogWriter struct{}

func (klogWriter) Write(p []byte) (int, error) {
	klog.V(2).InfoS("EKS API server", "message", string(p))
	return len(p), nil
}
