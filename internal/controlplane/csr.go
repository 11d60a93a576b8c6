package controlplane

import (
	"context"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	certificatesinformers "k8s.io/client-go/informers/certificates/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	cmapp "k8s.io/controller-manager/app"
	"k8s.io/controller-manager/pkg/clientbuilder"
	"k8s.io/klog/v2"
	kcmapp "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	kcmconfig "k8s.io/kubernetes/cmd/kube-controller-manager/app/config"
	"k8s.io/kubernetes/cmd/kube-controller-manager/names"
	"k8s.io/kubernetes/pkg/controller/certificates/approver"
	"k8s.io/kubernetes/pkg/controller/certificates/signer"
	csrsigningconfig "k8s.io/kubernetes/pkg/controller/certificates/signer/config"
)

// csrWorkers is how many CSRs the approver, and each signer, handle at
// once. kube-controller-manager runs them with five, a number fixed in its
// code. Each approval is a SubjectAccessReview and a write, each signature a
// write; on a control plane busy with a thousand kubelets joining, a write
// takes ~60-100 ms, so five workers pass ~50 kubelets a second, which was the
// limit of the join (docs/benchmarks.md). Real clusters meet the same limit;
// kdp's simulated kubelets join faster than real machines boot.
const csrWorkers = 32

// takeOverCSRControllers removes kube-controller-manager's CSR approving and
// signing controllers from c, where kcm would run them, and returns a
// function that runs the same upstream controllers, with the same client
// identity (the certificate-controller service account), signing files and
// certificate duration, with csrWorkers workers. It returns nil when kcm
// runs neither (the user disabled them), or when kcm elects a leader; a
// signer given its own files stays with kcm, which handles them as always.
func takeOverCSRControllers(c *kcmconfig.CompletedConfig) func(context.Context) error {
	generic := &c.ComponentConfig.Generic
	disabledByDefault := sets.NewString(kcmapp.ControllersDisabledByDefault()...)
	enabled := func(name string) bool { return cmapp.IsControllerEnabled(name, disabledByDefault, generic.Controllers) }

	signing := c.ComponentConfig.CSRSigningController
	approve := enabled(names.CertificateSigningRequestApprovingController)
	sign := enabled(names.CertificateSigningRequestSigningController) &&
		signing.ClusterSigningCertFile != "" && signing.ClusterSigningKeyFile != "" && !anySignerFilesSet(signing)
	// With leader election on, kcm runs them only while it leads; so would
	// several kdp processes sharing a cluster, so kcm keeps them.
	if (!approve && !sign) || generic.LeaderElection.LeaderElect {
		return nil
	}
	// kcm takes the first explicit choice for a controller.
	if approve {
		generic.Controllers = append([]string{"-" + names.CertificateSigningRequestApprovingController}, generic.Controllers...)
	}
	if sign {
		generic.Controllers = append([]string{"-" + names.CertificateSigningRequestSigningController}, generic.Controllers...)
	}
	return func(ctx context.Context) error {
		logger := klog.FromContext(ctx).WithName("certificate-controllers")
		ctx = klog.NewContext(ctx, logger)
		client, err := certificateControllerClient(ctx, c)
		if err != nil {
			return nil // ctx ended
		}
		factory := informers.NewSharedInformerFactory(client, 0)
		csrs := factory.Certificates().V1().CertificateSigningRequests()
		var controllers []interface{ Run(context.Context, int) }
		if approve {
			controllers = append(controllers, approver.NewCSRApprovingController(ctx, client, csrs))
		}
		if sign {
			ttl := signing.ClusterSigningDuration.Duration
			cert, key := signing.ClusterSigningCertFile, signing.ClusterSigningKeyFile
			for _, newSigner := range []func(context.Context, kubernetes.Interface, certificatesinformers.CertificateSigningRequestInformer, string, string, time.Duration) (*signer.CSRSigningController, error){
				signer.NewKubeletServingCSRSigningController,
				signer.NewKubeletClientCSRSigningController,
				signer.NewKubeAPIServerClientCSRSigningController,
				signer.NewLegacyUnknownCSRSigningController,
			} {
				s, err := newSigner(ctx, client, csrs, cert, key, ttl)
				if err != nil {
					return fmt.Errorf("CSR signer: %w", err)
				}
				controllers = append(controllers, s)
			}
		}
		factory.Start(ctx.Done())
		defer factory.Shutdown()
		var wg sync.WaitGroup
		for _, c := range controllers {
			wg.Go(func() { c.Run(ctx, csrWorkers) })
		}
		wg.Wait()
		return nil
	}
}

// anySignerFilesSet reports whether the user gave a signer its own files;
// kcm then uses no --cluster-signing-* files for any signer.
func anySignerFilesSet(c csrsigningconfig.CSRSigningControllerConfiguration) bool {
	for _, s := range []csrsigningconfig.CSRSigningConfiguration{
		c.KubeletServingSignerConfiguration,
		c.KubeletClientSignerConfiguration,
		c.KubeAPIServerClientSignerConfiguration,
		c.LegacyUnknownSignerConfiguration,
	} {
		if s.CertFile != "" || s.KeyFile != "" {
			return true
		}
	}
	return false
}

// certificateControllerClient is the client kcm gives its certificate
// controllers: the certificate-controller service account's when kcm uses
// service account credentials, else kcm's own. The service account's token
// needs the apiserver, so it waits, as kcm does, until ctx ends.
func certificateControllerClient(ctx context.Context, c *kcmconfig.CompletedConfig) (kubernetes.Interface, error) {
	var builder clientbuilder.ControllerClientBuilder = clientbuilder.SimpleControllerClientBuilder{ClientConfig: c.Kubeconfig}
	if c.ComponentConfig.KubeCloudShared.UseServiceAccountCredentials {
		builder = clientbuilder.NewDynamicClientBuilder(rest.AnonymousClientConfig(c.Kubeconfig), c.Client.CoreV1(), metav1.NamespaceSystem)
	}
	var client kubernetes.Interface
	tries := 0
	err := wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		var err error
		client, err = builder.Client("certificate-controller")
		if err != nil {
			tries++
			// Quiet while the apiserver starts; loud if it stays so.
			level := 2
			if tries%30 == 0 {
				level = 0
			}
			klog.FromContext(ctx).V(level).Info("Waiting for the certificate-controller client", "err", err, "tries", tries)
		}
		return err == nil, nil
	})
	return client, err
}
