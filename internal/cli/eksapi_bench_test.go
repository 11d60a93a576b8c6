package cli_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/testenv"
)

// eksBenchWorkers is the load generator's concurrency: a bounded number of
// clients, each with one request in flight.
const eksBenchWorkers = 8

// BenchmarkEKSAPIDescribeNodegroup measures DescribeNodegroup through kdp's
// EKS API (restJson1 over HTTP on loopback, each request signed with
// SigV4 and verified), from eksBenchWorkers clients each sending a request
// as soon as its last is answered, against a client-go Get of the same
// NodeGroup object from the kube-apiserver in the same run: requests per
// second, p50 and p99 latency, kdp's CPU per request, and the ratios of
// the EKS API to the Get. b.N is the number of requests of each.
func BenchmarkEKSAPIDescribeNodegroup(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "data")
	e, err := testenv.Start(testenv.Options{DataDir: dir, Full: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = e.Stop(); e.Cleanup() })
	vars := eksEnv(b, dir)
	ctx := context.Background()
	c := sdkClient(vars, "", "")
	if _, err := c.CreateNodegroup(ctx, &eks.CreateNodegroupInput{
		ClusterName: aws.String("kdp"), NodegroupName: aws.String("bench"), NodeRole: aws.String(e2eNodeRole), Subnets: subnetIDs(b, dir),
		ScalingConfig: &ekstypes.NodegroupScalingConfig{MinSize: aws.Int32(0), MaxSize: aws.Int32(1), DesiredSize: aws.Int32(0)},
	}); err != nil {
		b.Fatal(err)
	}
	url := vars["AWS_ENDPOINT_URL_EKS"] + "/clusters/kdp/node-groups/bench"
	creds := aws.Credentials{AccessKeyID: vars["AWS_ACCESS_KEY_ID"], SecretAccessKey: vars["AWS_SECRET_ACCESS_KEY"]}
	signer := v4.NewSigner()
	empty := sha256.Sum256(nil)
	hash := hex.EncodeToString(empty[:])
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: eksBenchWorkers}}
	describe := func() error {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if err := signer.SignHTTP(ctx, creds, req, hash, "eks", vars["AWS_REGION"], time.Now()); err != nil {
			return err
		}
		resp, err := httpc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("DescribeNodegroup: HTTP %d", resp.StatusCode)
		}
		return nil
	}
	cfg := rest.CopyConfig(e.Config)
	cfg.QPS, cfg.Burst = -1, 0 // no client-side rate limit: the server's speed, as for the EKS API
	direct, err := client.New(cfg, client.Options{Scheme: e.Client.Scheme()})
	if err != nil {
		b.Fatal(err)
	}
	get := func() error {
		return direct.Get(ctx, client.ObjectKey{Name: "bench"}, &eksv1.NodeGroup{})
	}
	for range 200 { // warm both up: connections, caches
		if err := describe(); err != nil {
			b.Fatal(err)
		}
		if err := get(); err != nil {
			b.Fatal(err)
		}
	}

	b.ResetTimer()
	api := load(b, e.Pid(), b.N, describe)
	kube := load(b, e.Pid(), b.N, get)
	b.StopTimer()
	b.ReportMetric(api.perSecond, "eks-req/s")
	b.ReportMetric(api.p50.Seconds()*1000, "eks-p50-ms")
	b.ReportMetric(api.p99.Seconds()*1000, "eks-p99-ms")
	b.ReportMetric(api.cpu.Seconds()*1e6, "eks-cpu-us/req")
	b.ReportMetric(kube.perSecond, "get-req/s")
	b.ReportMetric(kube.p99.Seconds()*1000, "get-p99-ms")
	b.ReportMetric(kube.cpu.Seconds()*1e6, "get-cpu-us/req")
	b.ReportMetric(api.cpu.Seconds()/kube.cpu.Seconds(), "cpu-ratio")
	b.ReportMetric(kube.perSecond/api.perSecond, "throughput-ratio")
}

// loadResult is what one load run measured.
type loadResult struct {
	perSecond float64
	p50, p99  time.Duration
	// cpu is kdp's CPU (all of it: the EKS API, the kube-apiserver, etcd)
	// per request.
	cpu time.Duration
}

// load sends n requests from eksBenchWorkers workers and measures them.
func load(b *testing.B, pid, n int, do func() error) loadResult {
	latencies := make([]time.Duration, n)
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	var failed error
	cpu0 := cpuSeconds(b, pid)
	start := time.Now()
	for range eksBenchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				t := time.Now()
				if err := do(); err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
					return
				}
				latencies[i] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	cpu := cpuSeconds(b, pid) - cpu0
	if failed != nil {
		b.Fatal(failed)
	}
	slices.Sort(latencies)
	return loadResult{
		perSecond: float64(n) / took.Seconds(),
		p50:       latencies[n/2], p99: latencies[min(n-1, n*99/100)],
		cpu: time.Duration(cpu / float64(n) * float64(time.Second)),
	}
}
