package cli

import (
	"context"
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/kdp-project/kdp/internal/join"
	"github.com/kdp-project/kdp/internal/pki"
)

// bootstrapCluster sets up, with the admin's credentials, what kdp needs of
// the cluster before its manager starts: in its own cluster the manager's
// role; in every cluster the RBAC of TLS bootstrap for joining nodes (as
// kubeadm makes it). It removes what older kdp versions installed and no
// longer use. It is idempotent.
func bootstrapCluster(ctx context.Context, adminKubeconfig string, own bool) error {
	restCfg, err := clientcmd.BuildConfigFromFlags("", adminKubeconfig)
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return err
	}
	if own {
		binding := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: pki.ManagerUser},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: pki.ManagerUser}},
		}
		_, err = client.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("granting kdp's manager its role: %w", err)
		}
	}
	if err := join.EnsureRBAC(ctx, client); err != nil {
		return fmt.Errorf("setting up the RBAC of TLS bootstrap: %w", err)
	}
	return removeSimCRDs(ctx, apiextensionsclient.NewForConfigOrDie(restCfg))
}

// removeSimCRDs deletes the sim.kdp.dev CRDs of kdp versions that kept the
// simulated cloud's state in the cluster (and with them their objects):
// the cloud now keeps its state outside every cluster. They are kdp's own.
func removeSimCRDs(ctx context.Context, c apiextensionsclient.Interface) error {
	crds, err := c.ApiextensionsV1().CustomResourceDefinitions().List(ctx, metav1.ListOptions{})
	if apierrors.IsForbidden(err) {
		return nil // a user who may not list CRDs has none of kdp's
	}
	if err != nil {
		return fmt.Errorf("listing CRDs: %w", err)
	}
	for _, crd := range crds.Items {
		if !strings.HasSuffix(crd.Name, ".sim.kdp.dev") {
			continue
		}
		if err := c.ApiextensionsV1().CustomResourceDefinitions().Delete(ctx, crd.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("removing the old CRD %s: %w", crd.Name, err)
		}
		klog.InfoS("removed the CRD of an older kdp version", "crd", crd.Name)
	}
	return nil
}
