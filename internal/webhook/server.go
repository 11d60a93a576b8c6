// Package webhook is kdp's one admission-webhook server: every admission
// webhook of kdp (NodeGroup defaults and validation, Fargate's pod
// mutation, ...) is a Hook added to it, served on one port and registered
// in one ValidatingWebhookConfiguration and one
// MutatingWebhookConfiguration.
//
// The server keeps its own CA and serving certificate in a directory and
// renews both on an injected clock while it runs. A new CA enters the
// configurations' caBundle beside the old one, and only then signs the
// serving certificate; the old CA stays in the bundle until it expires, and
// cross-signs the new one meanwhile, so that no API server, whatever bundle
// it holds, refuses the server during the switch.
//
// Serving uses controller-runtime's admission.Webhook, which decodes the
// AdmissionReview, and its request metrics, on a plain http.Server.
// controller-runtime's webhook.Server would take the certificate from a
// GetCertificate in its TLSOpts (it then skips its certificate files), but
// it binds host:port itself: it cannot take the listener kdp reserved
// before start, and it turns port 0 into its default 9443.
//
// Every replica of kdp serves (no leader election). Replicas behind one
// URLHost must share Dir, for one caBundle holds one CA pair; their CA
// renewals are not coordinated with each other.
package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// shutdownTimeout bounds how long admission requests in flight get to end.
const shutdownTimeout = 10 * time.Second

// Server is the admission-webhook server: a manager Runnable that needs no
// leader election (every replica serves; the configurations' applies are
// idempotent).
type Server struct {
	opts     Options
	client   client.Client
	listener net.Listener
	urlHost  string // host:port
	rotator  *rotator

	mu      sync.Mutex
	hooks   []Hook
	started bool
}

// New binds the server's port (unless given a listener) and loads its
// certificates from Options.Dir; Start creates what is missing. cfg is for
// the configurations' reads and applies, which go straight to the API
// server (no informer for an hourly read).
func New(cfg *rest.Config, o Options) (*Server, error) {
	o.setDefaults()
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("webhook server options: %w", err)
	}
	scheme := runtime.NewScheme()
	if err := admissionregistrationv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("creating the webhook server's client: %w", err)
	}
	s := &Server{opts: o, client: c, listener: o.Listener}
	if s.listener == nil {
		addr := net.JoinHostPort(o.BindAddress, strconv.Itoa(o.Port))
		if s.listener, err = net.Listen("tcp", addr); err != nil {
			return nil, fmt.Errorf("binding the webhook server to %s: %w", addr, err)
		}
	}
	s.urlHost = urlHost(o.URLHost, s.listener.Addr().(*net.TCPAddr))
	host, _, _ := net.SplitHostPort(s.urlHost)
	certs, err := loadCerts(o.Dir, host)
	if err != nil {
		if o.Listener == nil {
			s.listener.Close()
		}
		return nil, fmt.Errorf("loading the webhook server's certificates: %w (removing %s makes new ones)", err, o.Dir)
	}
	s.rotator = &rotator{
		certs: certs, clock: o.Clock, interval: o.CheckInterval,
		caValidity: o.CAValidity, servingValidity: o.ServingValidity,
		register: s.register,
	}
	return s, nil
}

// Add adds a hook; all are added before Start.
func (s *Server) Add(h Hook) error {
	if err := h.validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return fmt.Errorf("webhook %q: added after the server started", h.Name)
	}
	for _, o := range s.hooks {
		if o.Name == h.Name || o.Path == h.Path {
			return fmt.Errorf("webhook %q: name or path %s already taken by webhook %q", h.Name, h.Path, o.Name)
		}
	}
	s.hooks = append(s.hooks, h)
	return nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.listener.Addr() }

// URL is where the API server calls the hook at path.
func (s *Server) URL(path string) string { return "https://" + s.urlHost + path }

// CABundle is the caBundle last registered, nil before the first.
func (s *Server) CABundle() []byte {
	if b := s.rotator.registered.Load(); b != nil {
		return *b
	}
	return nil
}

// NeedLeaderElection is false: every replica serves.
func (*Server) NeedLeaderElection() bool { return false }

// AddToManager runs the server with mgr and adds its readiness check, as
// "webhook", to mgr's /readyz.
func (s *Server) AddToManager(mgr ctrl.Manager) error {
	if err := mgr.Add(s); err != nil {
		return fmt.Errorf("adding the webhook server to the manager: %w", err)
	}
	return mgr.AddReadyzCheck("webhook", s.ReadyCheck())
}

// Start serves until ctx ends: it makes sure there is a certificate to
// serve, serves, and then registers the configurations and keeps the
// certificates current. It closes the listener when it returns.
func (s *Server) Start(ctx context.Context) error {
	logger := log.FromContext(ctx).WithName("webhook")
	ctx, cancel := context.WithCancel(log.IntoContext(ctx, logger))
	defer cancel()
	s.mu.Lock()
	started := s.started
	s.started = true
	s.mu.Unlock()
	if started {
		return errors.New("webhook server started twice")
	}
	mux, err := s.mux(logger)
	if err == nil {
		err = s.rotator.prepare(ctx, s.opts.Clock.Now())
	}
	if err != nil {
		s.listener.Close()
		return err
	}
	// HTTP/1.1 only, as controller-runtime's webhook servers default to:
	// HTTP/2 opens the server to rapid-reset floods (CVE-2023-44487), and
	// its graceful shutdown holds the API server's idle connection for a
	// second (its GOAWAY timeout) on every stop. An admission review is one
	// request and one response; the API server speaks HTTP/1.1 as well.
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	srv := &http.Server{
		Protocols:         &protocols,
		Handler:           mux,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: s.rotator.getCertificate},
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          errorLog(logger),
	}
	served := make(chan error, 1)
	go func() { served <- srv.ServeTLS(s.listener, "", "") }()
	logger.Info("serving admission webhooks", "address", s.Addr().String(), "url", s.URL("/"), "hooks", len(s.hooks))

	rotated := make(chan struct{})
	go func() {
		defer close(rotated)
		s.rotator.run(ctx)
	}()
	select {
	case err = <-served:
		err = fmt.Errorf("serving admission webhooks on %s: %w", s.Addr(), err)
	case <-ctx.Done():
		shutdownCtx, done := context.WithTimeout(context.Background(), shutdownTimeout)
		defer done()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			logger.Error(err, "stopping the webhook server")
		}
	}
	cancel()
	<-rotated
	return err
}

func (s *Server) mux(logger logr.Logger) (*http.ServeMux, error) {
	mux := http.NewServeMux()
	for _, h := range s.hooks {
		handler, err := h.handler(logger)
		if err != nil {
			return nil, fmt.Errorf("webhook %q: %w", h.Name, err)
		}
		mux.Handle(h.Path, handler)
	}
	return mux, nil
}
