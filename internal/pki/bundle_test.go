package pki

import (
	"crypto/x509"
	"net"
	"os"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	certutil "k8s.io/client-go/util/cert"

	"github.com/kdp-project/kdp/internal/cluster"
)

func ensure(t *testing.T, layout cluster.Layout, cfg cluster.Config) *Bundle {
	t.Helper()
	b, err := Ensure(layout, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEnsureCreatesThenReuses(t *testing.T) {
	cfg := cluster.Default()
	cfg.DataDir = t.TempDir()
	layout := cluster.Layout{Root: cfg.DataDir}

	first := ensure(t, layout, cfg)
	// The apiserver serves the names in-cluster clients and users dial.
	if err := first.APIServer.Cert.VerifyHostname("kubernetes.default.svc"); err != nil {
		t.Error(err)
	}
	for _, ip := range []string{"127.0.0.1", "10.96.0.1"} {
		if err := first.APIServer.Cert.VerifyHostname(ip); err != nil {
			t.Error(err)
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(first.CA.Cert)
	if _, err := first.APIServer.Cert.Verify(x509.VerifyOptions{Roots: pool}); err != nil {
		t.Errorf("apiserver cert does not chain to the CA: %v", err)
	}
	if info, err := os.Stat(first.CA.KeyFile); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("CA key mode: %v %v", info.Mode(), err)
	}

	second := ensure(t, layout, cfg)
	if !second.CA.Cert.Equal(first.CA.Cert) || !second.APIServer.Cert.Equal(first.APIServer.Cert) {
		t.Error("a second Ensure re-issued certificates it should have reused")
	}

	// A new bind address needs a new serving cert from the same CA.
	cfg.BindAddress = "127.0.0.2"
	third := ensure(t, layout, cfg)
	if !third.CA.Cert.Equal(first.CA.Cert) {
		t.Error("the CA changed")
	}
	if third.APIServer.Cert.Equal(first.APIServer.Cert) {
		t.Fatal("serving cert not re-issued for a new bind address")
	}
	if !hasIP(third.APIServer.Cert, "127.0.0.2") || !hasIP(third.EtcdServer.Cert, "127.0.0.2") {
		t.Errorf("serving certs lack the bind address: %v / %v", third.APIServer.Cert.IPAddresses, third.EtcdServer.Cert.IPAddresses)
	}
}

func TestEnsureWritesKubeconfigs(t *testing.T) {
	cfg := cluster.Default()
	cfg.DataDir = t.TempDir()
	cfg.APIServerPort = 23456
	layout := cluster.Layout{Root: cfg.DataDir}
	b := ensure(t, layout, cfg)
	for path, user := range map[string]string{
		layout.AdminKubeconfig():                     AdminUser,
		layout.Kubeconfig("kube-controller-manager"): ControllerManagerUser,
		layout.Kubeconfig("kube-scheduler"):          SchedulerUser,
		layout.Kubeconfig("kdp-manager"):             ManagerUser,
	} {
		kc, err := clientcmd.LoadFromFile(path)
		if err != nil {
			t.Fatal(err)
		}
		ctx := kc.Contexts[kc.CurrentContext]
		if ctx == nil || kc.Clusters[ctx.Cluster].Server != "https://127.0.0.1:23456" || ctx.AuthInfo != user {
			t.Errorf("%s: context %+v", path, ctx)
		}
		restCfg, err := clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			t.Fatal(err)
		}
		certs, err := certutil.ParseCertsPEM(restCfg.CertData)
		if err != nil {
			t.Fatal(err)
		}
		cert := certs[0]
		if cert.Subject.CommonName != user || cert.CheckSignatureFrom(b.CA.Cert) != nil {
			t.Errorf("%s: client cert for %q, signed by CA: %v", path, cert.Subject.CommonName, cert.CheckSignatureFrom(b.CA.Cert))
		}
	}
}

func TestEnsureReportsCorruptFiles(t *testing.T) {
	cfg := cluster.Default()
	cfg.DataDir = t.TempDir()
	layout := cluster.Layout{Root: cfg.DataDir}
	ensure(t, layout, cfg)
	if err := os.WriteFile(layout.PKI("ca.crt"), []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Ensure(layout, cfg)
	if err == nil {
		t.Fatal("no error for a corrupt CA certificate")
	}
	if want := "loading CA " + layout.PKI("ca.crt"); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %q", err, want)
	}
}

func hasIP(cert *x509.Certificate, ip string) bool {
	for _, got := range cert.IPAddresses {
		if got.Equal(net.ParseIP(ip)) {
			return true
		}
	}
	return false
}
