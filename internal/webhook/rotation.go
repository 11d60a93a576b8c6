package webhook

import (
	"context"
	"crypto/tls"
	"fmt"
	"sync/atomic"
	"time"

	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// The serving certificate is renewed when less than a third of its lifetime
// remains, the CA in the last tenth of its own (a year of ten by default):
// time enough for every API server to take the new caBundle before the old
// CA expires.
const (
	servingRenewPart = 3
	caRenewPart      = 10
	// retryInterval is how soon a check that failed is tried again.
	retryInterval = 10 * time.Second
)

// rotator keeps the certificates current on its clock, and registers each
// caBundle before it serves a certificate that needs it.
type rotator struct {
	certs                       *certs
	clock                       clock.Clock
	caValidity, servingValidity time.Duration
	interval                    time.Duration
	// register puts caBundle into the webhook configurations.
	register func(ctx context.Context, caBundle []byte) error

	// serving is what the TLS handshakes present; registered is the
	// caBundle last registered (nil before the first).
	serving    atomic.Pointer[tls.Certificate]
	registered atomic.Pointer[[]byte]
}

// getCertificate is the tls.Config hook: a renewal takes effect at the next
// handshake, without a restart.
func (r *rotator) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.serving.Load(), nil
}

// run checks at each renewal moment, and every interval besides (a clock
// that jumped while the machine slept, a configuration edited by hand),
// until ctx ends.
func (r *rotator) run(ctx context.Context) {
	for {
		next, err := r.reconcile(ctx)
		now := r.clock.Now()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.FromContext(ctx).Error(err, "keeping the webhook certificates and configurations current", "retryIn", retryInterval)
			next = now.Add(retryInterval)
		}
		timer := r.clock.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C():
		}
	}
}

// reconcile brings certificates and configurations up to date and returns
// when to look again.
func (r *rotator) reconcile(ctx context.Context) (time.Time, error) {
	now := r.clock.Now()
	if err := r.prepare(ctx, now); err != nil {
		return now, err
	}
	bundle := r.certs.bundle()
	if err := r.register(ctx, bundle); err != nil {
		return now, fmt.Errorf("registering the webhook configurations: %w", err)
	}
	r.registered.Store(&bundle)
	// Only once the configurations trust the current CA does the server
	// present a certificate of it. (An API server whose informer has not
	// caught up yet verifies it through the cross-signed CA.)
	c := r.certs
	if !c.servingFromCurrent() || !now.Before(renewAt(c.serving.Cert, servingRenewPart)) {
		if err := c.issueServing(now, r.servingValidity); err != nil {
			return now, fmt.Errorf("renewing the webhook serving certificate: %w", err)
		}
		log.FromContext(ctx).Info("renewed the webhook serving certificate", "notAfter", c.serving.Cert.NotAfter)
		r.serving.Store(c.tlsCertificate())
	}
	return r.next(now), nil
}

// prepare does what needs no registration first: the expired previous CA
// goes, a CA due for renewal is renewed, and there is a certificate to
// serve. It is the whole of what Start does before it serves.
func (r *rotator) prepare(ctx context.Context, now time.Time) error {
	c, logger := r.certs, log.FromContext(ctx)
	if c.previous != nil && !now.Before(c.previous.Cert.NotAfter) {
		if err := c.dropPrevious(); err != nil {
			return err
		}
		logger.Info("the previous webhook CA expired; it leaves the caBundle")
	}
	if c.ca == nil || !now.Before(renewAt(c.ca.Cert, caRenewPart)) {
		if err := c.newCA(now, r.caValidity); err != nil {
			return fmt.Errorf("renewing the webhook CA: %w", err)
		}
		logger.Info("new webhook CA", "name", c.ca.Cert.Subject.CommonName, "notAfter", c.ca.Cert.NotAfter, "previous", c.previous != nil)
	}
	if !c.usable(now) {
		// Nothing an API server could verify: a new certificate now, and
		// the caBundle follows.
		if err := c.issueServing(now, r.servingValidity); err != nil {
			return fmt.Errorf("issuing the webhook serving certificate: %w", err)
		}
		logger.Info("issued the webhook serving certificate", "host", c.host, "notAfter", c.serving.Cert.NotAfter)
	}
	r.serving.Store(c.tlsCertificate())
	return nil
}

// next is the first renewal moment, or the interval's end if sooner.
func (r *rotator) next(now time.Time) time.Time {
	c := r.certs
	next := now.Add(r.interval)
	moments := []time.Time{renewAt(c.ca.Cert, caRenewPart), renewAt(c.serving.Cert, servingRenewPart)}
	if c.previous != nil {
		moments = append(moments, c.previous.Cert.NotAfter)
	}
	for _, m := range moments {
		if m.Before(next) {
			next = m
		}
	}
	return next
}
