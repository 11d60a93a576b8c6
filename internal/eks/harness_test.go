package eks_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/eks"
	"github.com/kdp-project/kdp/internal/fargate"
	fargateresources "github.com/kdp-project/kdp/internal/fargate/resources"
	"github.com/kdp-project/kdp/internal/nodegroup"
	"github.com/kdp-project/kdp/internal/nodegroup/resources"
	"github.com/kdp-project/kdp/internal/nodegroup/validation"
	"github.com/kdp-project/kdp/internal/testenv"
	"github.com/kdp-project/kdp/internal/testenv/kdptest"
	"github.com/kdp-project/kdp/internal/version"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

const (
	clusterName = "eks-test"
	nodeRole    = "arn:aws:iam::111122223333:role/NodeRole"
	podRole     = "arn:aws:iam::111122223333:role/AmazonEKSFargatePodExecutionRole"
)

// kdp is a kdp running the node group and Fargate controllers, and the
// Service over them.
type kdp struct {
	*kdptest.KDP
	svc *eks.Service
}

// start runs kdp (in dir, a new one if empty) and returns its Service.
func start(t testing.TB, dir string) *kdp {
	t.Helper()
	var svc *eks.Service
	k := kdptest.Start(t, env, kdptest.Options{
		Cluster: clusterName, Dir: dir,
		Setup: func(ctx context.Context, s kdptest.Setup) error {
			e := resources.Env{Cluster: clusterName, Account: s.Account, Clock: clock.RealClock{}, Scale: s.Scale, Join: s.Join}
			if err := nodegroup.Setup(ctx, s.Manager, s.Provider, s.Hooks, e); err != nil {
				return err
			}
			fe := fargateresources.Env{Cluster: clusterName, Account: s.Account, Join: s.Join, Clock: e.Clock, Scale: s.Scale}
			if err := fargate.Setup(ctx, s.Manager, s.Provider, s.Hooks, fe); err != nil {
				return err
			}
			svc = eks.New(eks.Config{
				Client: env.Client, Reader: s.Manager.GetClient(), Cloud: s.Provider, Account: s.Account,
				Cluster: eks.Cluster{
					Name: clusterName, Version: validation.Minor(version.Kubernetes()), PlatformVersion: "eks.1",
					Endpoint: s.Join.Server, CertificateAuthority: s.Join.CA, ServiceIPv4CIDR: cluster.ServiceCIDR,
					CreatedAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
				},
			})
			return nil
		},
		Ready: func(ctx context.Context) error {
			bad := &eksv1.NodeGroup{ObjectMeta: metav1.ObjectMeta{Name: "probe"}, Spec: eksv1.NodeGroupSpec{InstanceTypes: []string{"no.such"}}}
			err := env.Client.Create(ctx, bad, client.DryRunAll)
			if err == nil || !strings.Contains(err.Error(), "Ec2InstanceTypeDoesNotExist") {
				return fmt.Errorf("the node group webhook is not answering yet: %v", err)
			}
			fp := &eksv1.FargateProfile{ObjectMeta: metav1.ObjectMeta{Name: "probe"}}
			err = env.Client.Create(ctx, fp, client.DryRunAll)
			if err == nil || !strings.Contains(err.Error(), "podExecutionRoleArn") {
				return fmt.Errorf("the Fargate profile webhook is not answering yet: %v", err)
			}
			return nil
		},
	})
	return &kdp{KDP: k, svc: svc}
}
