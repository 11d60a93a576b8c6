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
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kdp-project/kdp/internal/crds"
	"github.com/kdp-project/kdp/internal/join"
	"github.com/kdp-project/kdp/internal/manager"
	"github.com/kdp-project/kdp/internal/pki"
)

// bootstrapCluster sets up, with the admin's credentials, what kdp needs of
// the cluster before its manager starts: in its own cluster the manager's
// role; in every cluster the RBAC of TLS bootstrap for joining nodes (as
// kubeadm makes it); with node groups (which need a cloud) kdp's CRDs,
// NodeGroup and NodeGroupUpdate, installed or upgraded and established. It
// removes what older kdp versions installed and no longer use. It is
// idempotent.
//
// Without a cloud kdp leaves the webhook configurations an earlier kdp
// registered as they are: the API server refuses NodeGroup writes, calling
// a server that is not there, rather than admit node groups nothing checks.
func bootstrapCluster(ctx context.Context, adminKubeconfig string, own, nodeGroups bool) error {
	restCfg, kube, err := clientsetFor(adminKubeconfig)
	if err != nil {
		return err
	}
	if own {
		binding := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: pki.ManagerUser},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: pki.ManagerUser}},
		}
		_, err = kube.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("granting kdp's manager its role: %w", err)
		}
	}
	if err := join.EnsureRBAC(ctx, kube); err != nil {
		return fmt.Errorf("setting up the RBAC of TLS bootstrap: %w", err)
	}
	if err := removeSimCRDs(ctx, apiextensionsclient.NewForConfigOrDie(restCfg)); err != nil {
		return err
	}
	if !nodeGroups {
		return nil
	}
	c, err := client.New(restCfg, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		return err
	}
	if err := crds.Install(ctx, c); err != nil {
		return fmt.Errorf("installing kdp's CRDs: %w", err)
	}
	return nil
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

// clientsetFor is the config and clientset of a kubeconfig.
func clientsetFor(kubeconfig string) (*rest.Config, kubernetes.Interface, error) {
	restCfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, nil, err
	}
	kube, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return nil, nil, err
	}
	return restCfg, kube, nil
}
