package cluster

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   []string // substrings of the error; none: valid
	}{
		{"defaults", func(*Config) {}, nil},
		{"all ports free", func(c *Config) { c.APIServerPort, c.EtcdPort, c.EtcdPeerPort = 0, 0, 0 }, nil},
		{"empty data dir", func(c *Config) { c.DataDir = "" }, []string{"--data-dir: must not be empty"}},
		{"bad name", func(c *Config) { c.ClusterName = "my.cluster" }, []string{`--cluster-name "my.cluster": must begin with a letter or digit`}},
		{"an EKS name", func(c *Config) { c.ClusterName = "My_Cluster-2" }, nil},
		{"bad bind", func(c *Config) { c.BindAddress = "localhost" }, []string{`--bind-address "localhost": must be an IP address`}},
		{"port range", func(c *Config) { c.EtcdPort = -1 }, []string{"--etcd-port -1: must be between 0 and 65535"}},
		{"duplicate port", func(c *Config) { c.ManagerHealthPort = c.ManagerMetricPort }, []string{"--health-port 17080: already used by --metrics-port"}},
		{"every problem at once", func(c *Config) { c.ClusterName = ""; c.APIServerPort = 99999 },
			[]string{"--cluster-name", "--apiserver-port 99999"}},
		{"webhook port shared", func(c *Config) { c.WebhookPort = c.APIServerPort }, []string{"--webhook-port 17443: already used by --apiserver-port"}},
		{"webhook host", func(c *Config) { c.WebhookHost = "172.17.0.1" }, nil},
		{"webhook host with port", func(c *Config) { c.WebhookHost = "host.docker.internal:8443" }, nil},
		{"webhook host IPv6", func(c *Config) { c.WebhookHost = "[fd00::1]:8443" }, nil},
		{"webhook host a URL", func(c *Config) { c.WebhookHost = "https://10.0.0.1" }, []string{`--webhook-host "https://10.0.0.1": must be an IP address or a DNS name`}},
		{"webhook host bad port", func(c *Config) { c.WebhookHost = "10.0.0.1:0" }, []string{`--webhook-host "10.0.0.1:0": the port must be a number between 1 and 65535`}},
		{"webhook host bad name", func(c *Config) { c.WebhookHost = "my_host" }, []string{`--webhook-host "my_host": must be an IP address or a DNS name`}},
		{"unknown component", func(c *Config) { c.ExtraArgs = map[string][]string{"kubelet": {"--v=1"}} }, []string{`"kubelet": unknown component`}},
		{"bad extra arg", func(c *Config) { c.ExtraArgs = map[string][]string{"kube-scheduler": {"v"}} }, []string{`--kube-scheduler-arg "v": must have the form --name=value`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.DataDir = "/tmp/x"
			tc.mutate(&c)
			err := c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestMergeArgs(t *testing.T) {
	for _, tc := range []struct {
		name      string
		overrides []string
		want      []string
		wantErr   string
	}{
		{"defaults only", nil, []string{"--a=1", "--b=2"}, ""},
		{"override one", []string{"--b=3"}, []string{"--a=1", "--b=3"}, ""},
		{"add one, without dashes", []string{"c=x=y"}, []string{"--a=1", "--b=2", "--c=x=y"}, ""},
		{"empty value", []string{"--a="}, []string{"--a=", "--b=2"}, ""},
		{"no value", []string{"--a"}, nil, `"--a": must have the form --name=value`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defaults := map[string]string{"a": "1", "b": "2"}
			got, err := MergeArgs(defaults, tc.overrides)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
			if defaults["b"] != "2" {
				t.Errorf("defaults were modified: %v", defaults)
			}
		})
	}
}

func TestReserve(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port

	c := Default()
	c.APIServerPort, c.EtcdPort, c.EtcdPeerPort, c.ManagerMetricPort, c.ManagerHealthPort, c.WebhookPort, c.EKSAPIPort = 0, 0, 0, 0, 0, 0, 0
	ls, err := c.Reserve("manager health")
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 6 || c.EKSAPIPort == 0 || c.APIServerPort == 0 || c.EtcdPort == 0 || c.WebhookPort == 0 || c.ManagerHealthPort != 0 {
		t.Errorf("reserved %d listeners, ports %+v", len(ls), c.Ports())
	}
	apiserver := ls.Take("kube-apiserver")
	defer apiserver.Close()
	if got := apiserver.Addr().(*net.TCPAddr).Port; got != c.APIServerPort {
		t.Errorf("apiserver listener on %d, config says %d", got, c.APIServerPort)
	}
	ls.Close()

	c.EtcdPort = port
	if _, err := c.Reserve(); err == nil || err.Error() != "etcd port 127.0.0.1:"+strconv.Itoa(port)+" (--etcd-port): address already in use" {
		t.Fatalf("err = %v", err)
	}
}
