package controlplane

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"k8s.io/klog/v2"

	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/pki"
)

// startEtcd starts a single-member etcd that serves clients over TLS with
// client-certificate authentication (only the apiserver holds a certificate
// of the etcd CA), and waits until it is ready.
func startEtcd(cfg cluster.Config, layout cluster.Layout, b *pki.Bundle) (*embed.Etcd, error) {
	ec := embed.NewConfig()
	ec.Name = cfg.ClusterName
	ec.Dir = layout.EtcdDir()
	listen := url.URL{Scheme: "https", Host: hostPort(cfg.BindAddress, cfg.EtcdPort)}
	advertise, err := url.Parse(cfg.EtcdURL())
	if err != nil {
		return nil, err
	}
	peer := url.URL{Scheme: "http", Host: hostPort("127.0.0.1", cfg.EtcdPeerPort)}
	ec.ListenClientUrls, ec.AdvertiseClientUrls = []url.URL{listen}, []url.URL{*advertise}
	ec.ListenPeerUrls, ec.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
	ec.ClientTLSInfo.CertFile = b.EtcdServer.CertFile
	ec.ClientTLSInfo.KeyFile = b.EtcdServer.KeyFile
	ec.ClientTLSInfo.TrustedCAFile = b.EtcdCA.CertFile
	ec.ClientTLSInfo.ClientCertAuth = true
	// etcd logs through zap; send its warnings and errors to kdp's log.
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.New(zapcore.NewCore(
		zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()),
		zapcore.AddSync(klogWriter{}),
		zapcore.WarnLevel,
	)))

	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("etcd: %w", err)
	case <-time.After(ReadyTimeout):
		e.Close()
		return nil, fmt.Errorf("etcd: not ready after %s", ReadyTimeout)
	}
}

func hostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// klogWriter hands etcd's JSON log lines to klog, so that all components log
// to one place.
type klogWriter struct{}

func (klogWriter) Write(p []byte) (int, error) {
	klog.InfoDepth(1, "etcd: "+string(p))
	return len(p), nil
}
