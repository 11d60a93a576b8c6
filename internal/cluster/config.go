// Package cluster holds what every part of kdp agrees on about one local
// cluster: its configuration, the layout of its data directory and the lock
// that keeps two kdp processes from sharing one. It is deliberately light (no
// k8s.io/kubernetes import) so the CLI and tests compile fast.
package cluster

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Default ports. They sit away from the well-known Kubernetes ports (6443,
// 2379, 10250, 10257, 10259) so kdp can run beside another local cluster.
const (
	DefaultAPIServerPort     = 17443
	DefaultEtcdPort          = 17379
	DefaultEtcdPeerPort      = 17380
	DefaultManagerMetricPort = 17080
	DefaultManagerHealthPort = 17081
	DefaultWebhookPort       = 17082
	DefaultEKSAPIPort        = 17083
	DefaultClusterName       = "kdp"
	DefaultBindAddress       = "127.0.0.1"
	// ServiceCIDR is the cluster's service IP range; its first address is the
	// kubernetes.default service, which the serving certificate names.
	ServiceCIDR = "10.96.0.0/16"
	// ServiceAccountIssuer is the issuer of service-account tokens.
	ServiceAccountIssuer = "https://kubernetes.default.svc.cluster.local"
)

// Config is the configuration of one kdp cluster. A port of 0 means "pick a
// free port at start", which tests use to run many clusters side by side.
type Config struct {
	DataDir     string
	ClusterName string
	BindAddress string

	APIServerPort     int
	EtcdPort          int
	EtcdPeerPort      int
	ManagerMetricPort int
	ManagerHealthPort int
	// WebhookPort is the port of kdp's admission webhooks, which the API
	// server calls.
	WebhookPort int
	// WebhookHost is the host (or host:port) the API server dials for the
	// webhooks; empty means the bind address (loopback if it is
	// unspecified), which is right for the embedded API server and for any
	// other that runs in this machine's network namespace.
	WebhookHost string
	// EKSAPIPort is the port of kdp's EKS-compatible API.
	EKSAPIPort int

	// Verbosity is the klog verbosity of every component.
	Verbosity int
	// LogOutput is where every component logs; nil means stderr.
	LogOutput io.Writer

	// ExtraArgs override the embedded components' default flags, keyed by
	// component ("kube-apiserver", "kube-controller-manager", "kube-scheduler");
	// each value is a list of "--flag=value" strings.
	ExtraArgs map[string][]string
}

// DefaultDataDir is $KDP_DATA_DIR, else ~/.kdp.
func DefaultDataDir() string {
	if d := os.Getenv("KDP_DATA_DIR"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ".kdp"
	}
	return filepath.Join(home, ".kdp")
}

// Default returns the configuration `kdp up` uses without flags.
func Default() Config {
	return Config{
		DataDir:           DefaultDataDir(),
		ClusterName:       DefaultClusterName,
		BindAddress:       DefaultBindAddress,
		APIServerPort:     DefaultAPIServerPort,
		EtcdPort:          DefaultEtcdPort,
		EtcdPeerPort:      DefaultEtcdPeerPort,
		ManagerMetricPort: DefaultManagerMetricPort,
		ManagerHealthPort: DefaultManagerHealthPort,
		WebhookPort:       DefaultWebhookPort,
		EKSAPIPort:        DefaultEKSAPIPort,
	}
}

// Validate reports every problem with the configuration, each naming its
// flag and the rule it breaks.
func (c Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, fmt.Errorf("--data-dir: must not be empty"))
	}
	if msg := NameError(c.ClusterName); msg != "" {
		errs = append(errs, fmt.Errorf("--cluster-name %q: %s", c.ClusterName, msg))
	}
	if net.ParseIP(c.BindAddress) == nil {
		errs = append(errs, fmt.Errorf("--bind-address %q: must be an IP address", c.BindAddress))
	}
	if msg := validateWebhookHost(c.WebhookHost); msg != "" {
		errs = append(errs, fmt.Errorf("--webhook-host %q: %s", c.WebhookHost, msg))
	}
	seen := map[int]string{}
	for _, p := range c.Ports() {
		if p.Port < 0 || p.Port > 65535 {
			errs = append(errs, fmt.Errorf("--%s %d: must be between 0 and 65535", p.Flag, p.Port))
			continue
		}
		if p.Port == 0 {
			continue
		}
		if other, ok := seen[p.Port]; ok {
			errs = append(errs, fmt.Errorf("--%s %d: already used by --%s", p.Flag, p.Port, other))
		}
		seen[p.Port] = p.Flag
	}
	for component, args := range c.ExtraArgs {
		switch component {
		case "kube-apiserver", "kube-controller-manager", "kube-scheduler":
		default:
			errs = append(errs, fmt.Errorf("extra args for %q: unknown component", component))
		}
		for _, arg := range args {
			if _, _, err := ParseArg(arg); err != nil {
				errs = append(errs, fmt.Errorf("--%s-arg %q: %w", component, arg, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Port is one port kdp listens on, with the flag that sets it.
type Port struct {
	Name string
	Flag string
	Port int
	// Ref points at the field of Config that holds the port.
	Ref *int
}

// Ports lists the ports of the configuration, in start order.
func (c *Config) Ports() []Port {
	return []Port{
		{Name: "etcd", Flag: "etcd-port", Port: c.EtcdPort, Ref: &c.EtcdPort},
		{Name: "etcd peer", Flag: "etcd-peer-port", Port: c.EtcdPeerPort, Ref: &c.EtcdPeerPort},
		{Name: "kube-apiserver", Flag: "apiserver-port", Port: c.APIServerPort, Ref: &c.APIServerPort},
		{Name: "manager metrics", Flag: "metrics-port", Port: c.ManagerMetricPort, Ref: &c.ManagerMetricPort},
		{Name: "manager health", Flag: "health-port", Port: c.ManagerHealthPort, Ref: &c.ManagerHealthPort},
		{Name: WebhookPortName, Flag: "webhook-port", Port: c.WebhookPort, Ref: &c.WebhookPort},
		{Name: EKSAPIPortName, Flag: "eks-api-port", Port: c.EKSAPIPort, Ref: &c.EKSAPIPort},
	}
}

// WebhookPortName and EKSAPIPortName are the names of the webhooks' port
// and the EKS API's in Ports and Listeners.
const (
	WebhookPortName = "webhook"
	EKSAPIPortName  = "EKS API"
)

// validateWebhookHost says what is wrong with a --webhook-host, "" if
// nothing: it is an IP address or a DNS name, with an optional port.
func validateWebhookHost(h string) string {
	const rule = "must be an IP address or a DNS name, with an optional :port (no scheme, no path)"
	if h == "" {
		return ""
	}
	if strings.Contains(h, "/") {
		return rule
	}
	host := h
	if hp, port, err := net.SplitHostPort(h); err == nil {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "the port must be a number between 1 and 65535"
		}
		host = hp
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if net.ParseIP(host) == nil && len(validation.IsDNS1123Subdomain(strings.ToLower(host))) > 0 {
		return rule
	}
	return ""
}

// Listeners holds the ports reserved by Reserve, keyed by Port.Name.
type Listeners map[string]net.Listener

// Close closes every listener that is still held.
func (l Listeners) Close() {
	for name, ln := range l {
		_ = ln.Close()
		delete(l, name)
	}
}

// Take hands one reserved listener to its user; the caller owns it from then on.
func (l Listeners) Take(name string) net.Listener {
	ln := l[name]
	delete(l, name)
	return ln
}

// Reserve binds every port of the configuration before anything starts, so
// that a port already in use is reported at once, by name and flag, with
// nothing written. Ports set to 0 are resolved to free ones and written back
// into c. The caller either takes each listener or closes them.
func (c *Config) Reserve(skip ...string) (Listeners, error) {
	ls := Listeners{}
	skipped := map[string]bool{}
	for _, s := range skip {
		skipped[s] = true
	}
	for _, p := range c.Ports() {
		if skipped[p.Name] {
			continue
		}
		addr := net.JoinHostPort(c.BindAddress, strconv.Itoa(p.Port))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			ls.Close()
			return nil, fmt.Errorf("%s port %s (--%s): %w", p.Name, addr, p.Flag, unwrapSyscall(err))
		}
		*p.Ref = ln.Addr().(*net.TCPAddr).Port
		ls[p.Name] = ln
	}
	return ls, nil
}

// APIServerURL is the https URL clients dial for the API server.
func (c Config) APIServerURL() string {
	return "https://" + net.JoinHostPort(c.dialHost(), strconv.Itoa(c.APIServerPort))
}

// EKSAPIURL is the URL clients dial for the EKS API, https if tls.
func (c Config) EKSAPIURL(tls bool) string {
	scheme := "http://"
	if tls {
		scheme = "https://"
	}
	return scheme + net.JoinHostPort(c.dialHost(), strconv.Itoa(c.EKSAPIPort))
}

// EtcdURL is the https client URL of etcd.
func (c Config) EtcdURL() string {
	return "https://" + net.JoinHostPort(c.dialHost(), strconv.Itoa(c.EtcdPort))
}

// dialHost is where local clients connect: the bind address, or loopback
// when kdp listens on every address (0.0.0.0 or ::).
func (c Config) dialHost() string {
	if ip := net.ParseIP(c.BindAddress); ip != nil && ip.IsUnspecified() {
		if ip.To4() == nil {
			return "::1"
		}
		return "127.0.0.1"
	}
	return c.BindAddress
}

// ParseArg splits "--name=value" (or "name=value") into its parts.
func ParseArg(arg string) (name, value string, err error) {
	name, value, ok := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	if !ok || name == "" {
		return "", "", fmt.Errorf("must have the form --name=value")
	}
	return name, value, nil
}

// MergeArgs applies overrides ("--name=value") to defaults and returns the
// result as sorted --name=value arguments.
func MergeArgs(defaults map[string]string, overrides []string) ([]string, error) {
	merged := maps.Clone(defaults)
	for _, arg := range overrides {
		name, value, err := ParseArg(arg)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", arg, err)
		}
		merged[name] = value
	}
	args := make([]string, 0, len(merged))
	for name, value := range merged {
		args = append(args, "--"+name+"="+value)
	}
	slices.Sort(args)
	return args, nil
}
