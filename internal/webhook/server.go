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
// Serving uses controller-runtime's admission.Webhook (which decodes the
// AdmissionReview) and its request metrics. It does not use its
// webhook.Server: that binds host:port itself (it cannot take the listener
// kdp reserved before start, and turns port 0 into 9443) and loads its
// certificate from files, which TLSOpts' GetCertificate would replace
// anyway.
package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// Defaults of Options.
const (
	DefaultName            = "kdp"
	DefaultCAValidity      = 10 * 365 * 24 * time.Hour
	DefaultServingValidity = 365 * 24 * time.Hour
	DefaultCheckInterval   = time.Hour
)

// shutdownTimeout bounds how long admission requests in flight get to end.
const shutdownTimeout = 10 * time.Second

// Options configure a Server.
type Options struct {
	// Dir holds the CA and the serving certificate (DATA_DIR/webhook).
	Dir string
	// Listener is the port kdp reserved for the server. Without one the
	// server binds BindAddress (default 127.0.0.1) and Port (0: a free
	// one; Addr tells which).
	Listener    net.Listener
	BindAddress string
	Port        int
	// URLHost is the host[:port] the API server dials, in the
	// configurations' URLs and the serving certificate (an IP SAN if it is
	// an IP, else a DNS SAN). Without a port, the listener's is used; unset,
	// the listener's address (loopback for an unspecified one).
	URLHost string
	// Name is the name of both configurations (default "kdp").
	Name string
	// Clock drives renewals (default the real clock).
	Clock clock.Clock
	// CAValidity and ServingValidity are the lifetimes of newly issued
	// certificates (default 10 years and 1 year; at least 1 hour and 10
	// minutes). A serving certificate never outlives its CA.
	CAValidity, ServingValidity time.Duration
	// CheckInterval is how often the server checks its certificates and
	// registration besides at their renewal moments (default 1 hour).
	CheckInterval time.Duration
}

func (o *Options) setDefaults() {
	if o.BindAddress == "" {
		o.BindAddress = "127.0.0.1"
	}
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.CAValidity == 0 {
		o.CAValidity = DefaultCAValidity
	}
	if o.ServingValidity == 0 {
		o.ServingValidity = DefaultServingValidity
	}
	if o.CheckInterval == 0 {
		o.CheckInterval = DefaultCheckInterval
	}
}

// validate reports every problem at once. The lower bounds keep each
// renewal moment after the issue that precedes it, certificates being
// backdated by pki.ClockSkew.
func (o *Options) validate() error {
	var errs []error
	if o.Dir == "" {
		errs = append(errs, errors.New("dir: not set"))
	}
	if o.CAValidity < time.Hour {
		errs = append(errs, fmt.Errorf("caValidity (%s): less than 1h", o.CAValidity))
	}
	if o.ServingValidity < 10*time.Minute {
		errs = append(errs, fmt.Errorf("servingValidity (%s): less than 10m", o.ServingValidity))
	}
	if o.CheckInterval < time.Second {
		errs = append(errs, fmt.Errorf("checkInterval (%s): less than 1s", o.CheckInterval))
	}
	return errors.Join(errs...)
}

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

// urlHost is o with the listener's port if it names none, or else the
// listener's address.
func urlHost(o string, addr *net.TCPAddr) string {
	port := strconv.Itoa(addr.Port)
	if o != "" {
		if _, _, err := net.SplitHostPort(o); err == nil {
			return o
		}
		return net.JoinHostPort(strings.Trim(o, "[]"), port)
	}
	ip := addr.IP
	if ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
		if addr.IP.To4() == nil {
			ip = net.IPv6loopback
		}
	}
	return net.JoinHostPort(ip.String(), port)
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
	mux := http.NewServeMux()
	for _, h := range s.hooks {
		handler, err := h.handler(logger)
		if err != nil {
			return fmt.Errorf("webhook %q: %w", h.Name, err)
		}
		mux.Handle(h.Path, handler)
	}
	if err := s.rotator.prepare(ctx, s.opts.Clock.Now()); err != nil {
		s.listener.Close()
		return err
	}
	srv := &http.Server{
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
	var err error
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
