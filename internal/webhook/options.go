package webhook

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"k8s.io/utils/clock"
)

// Defaults of Options.
const (
	DefaultName            = "kdp"
	DefaultCAValidity      = 10 * 365 * 24 * time.Hour
	DefaultServingValidity = 365 * 24 * time.Hour
	DefaultCheckInterval   = time.Hour
)

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
