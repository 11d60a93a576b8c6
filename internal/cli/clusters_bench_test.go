package cli_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
)

// createCluster creates a cluster through the AWS SDK and waits until it
// is ACTIVE, returning how long that took.
func createCluster(b testing.TB, c *eks.Client, name string, subnets []string) time.Duration {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	_, err := c.CreateCluster(ctx, &eks.CreateClusterInput{
		Name: aws.String(name), RoleArn: aws.String("arn:aws:iam::123456789012:role/EKSClusterRole"),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: subnets},
	})
	if err != nil {
		b.Fatal(err)
	}
	for {
		out, err := c.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
		if err != nil {
			b.Fatal(err)
		}
		switch out.Cluster.Status {
		case ekstypes.ClusterStatusActive:
			return time.Since(start)
		case ekstypes.ClusterStatusFailed:
			b.Fatalf("cluster %s FAILED: %+v", name, out.Cluster.Health)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// deleteCluster deletes a cluster and waits until it is gone.
func deleteCluster(b testing.TB, c *eks.Client, name string) time.Duration {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	if _, err := c.DeleteCluster(ctx, &eks.DeleteClusterInput{Name: aws.String(name)}); err != nil {
		b.Fatal(err)
	}
	for {
		_, err := c.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
		var nf *ekstypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			return time.Since(start)
		} else if err != nil {
			b.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkCreateCluster: CreateCluster through the EKS API to ACTIVE (a
// control plane of its own, started as a child process, with its API
// server ready), and DeleteCluster to gone (the process stopped, its data
// removed), one cluster at a time; p50 and max of each.
func BenchmarkCreateCluster(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "data")
	e := startKdp(b, dir)
	defer stopKdp(b, e)
	vars := eksEnv(b, dir)
	c := sdkClient(vars, "", "")
	subnets := subnetIDs(b, dir)
	var creates, deletes []time.Duration
	i := 0
	for b.Loop() {
		name := fmt.Sprintf("bench-%d", i)
		i++
		creates = append(creates, createCluster(b, c, name, subnets))
		deletes = append(deletes, deleteCluster(b, c, name))
	}
	slices.Sort(creates)
	slices.Sort(deletes)
	b.ReportMetric(creates[len(creates)/2].Seconds(), "s-create-p50")
	b.ReportMetric(creates[len(creates)-1].Seconds(), "s-create-max")
	b.ReportMetric(deletes[len(deletes)/2].Seconds(), "s-delete-p50")
	b.ReportMetric(deletes[len(deletes)-1].Seconds(), "s-delete-max")
}

// BenchmarkFiveIdleClusters: five created clusters, ACTIVE and idle: the
// RSS and CPU of their control planes, and what kdp itself grew by
// (their controllers run in it), each measured over the idle window.
func BenchmarkFiveIdleClusters(b *testing.B) {
	for b.Loop() {
		dir := filepath.Join(b.TempDir(), "data")
		e := startKdp(b, dir)
		vars := eksEnv(b, dir)
		c := sdkClient(vars, "", "")
		subnets := subnetIDs(b, dir)
		time.Sleep(5 * time.Second)
		cpuOf := func(pids ...int) float64 {
			s := 0.0
			for _, p := range pids {
				s += cpuSeconds(b, p)
			}
			return s
		}
		// kdp alone, as a baseline.
		kdpRSS, before := rssMiB(b, e.Pid()), cpuOf(e.Pid())
		time.Sleep(*idleWindow)
		kdpCPU := (cpuOf(e.Pid()) - before) / idleWindow.Seconds() * 100

		var pids []int
		for i := range 5 {
			name := fmt.Sprintf("idle-%d", i)
			createCluster(b, c, name, subnets)
			pids = append(pids, childPID(b, dir, name))
		}
		time.Sleep(15 * time.Second) // let start-up work settle before the window
		beforeChildren, beforeKdp := cpuOf(pids...), cpuOf(e.Pid())
		time.Sleep(*idleWindow)
		childCPU := (cpuOf(pids...) - beforeChildren) / idleWindow.Seconds() * 100
		kdpGrewCPU := (cpuOf(e.Pid())-beforeKdp)/idleWindow.Seconds()*100 - kdpCPU
		var rss float64
		for _, p := range pids {
			rss += rssMiB(b, p)
		}
		grew := rssMiB(b, e.Pid()) - kdpRSS
		b.ReportMetric(rss, "MiB-rss-children")
		b.ReportMetric(grew, "MiB-rss-kdp-grew")
		b.ReportMetric(rss+grew, "MiB-rss-total")
		b.ReportMetric(childCPU, "%cpu-children")
		b.ReportMetric(kdpGrewCPU, "%cpu-kdp-grew")
		b.ReportMetric(childCPU+kdpGrewCPU, "%cpu-total")
		for i := range 5 {
			deleteCluster(b, c, fmt.Sprintf("idle-%d", i))
		}
		stopKdp(b, e)
	}
}
