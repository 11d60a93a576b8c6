package controlplane

import (
	"slices"
	"testing"

	kcmconfig "k8s.io/kubernetes/cmd/kube-controller-manager/app/config"
	"k8s.io/kubernetes/cmd/kube-controller-manager/names"
)

func TestTakeOverCSRControllers(t *testing.T) {
	const approving, signing = names.CertificateSigningRequestApprovingController, names.CertificateSigningRequestSigningController
	tests := []struct {
		name          string
		controllers   []string
		clusterFiles  bool
		specificFiles bool
		leaderElect   bool
		// want is kcm's controllers afterwards; nil when kdp takes none.
		want []string
	}{
		{name: "kdp's default takes both", controllers: []string{"*", "bootstrapsigner"}, clusterFiles: true,
			want: []string{"-" + signing, "-" + approving, "*", "bootstrapsigner"}},
		{name: "approver disabled by the user stays off", controllers: []string{"*", "-" + approving}, clusterFiles: true,
			want: []string{"-" + signing, "*", "-" + approving}},
		{name: "no signing files: kcm skips its signer, kdp runs the approver", controllers: []string{"*"},
			want: []string{"-" + approving, "*"}},
		{name: "per-signer files stay with kcm", controllers: []string{"*"}, specificFiles: true,
			want: []string{"-" + approving, "*"}},
		{name: "both named explicitly", controllers: []string{approving, signing}, clusterFiles: true,
			want: []string{"-" + signing, "-" + approving, approving, signing}},
		{name: "neither enabled", controllers: []string{"garbage-collector-controller"}, clusterFiles: true},
		{name: "both disabled", controllers: []string{"*", "-" + approving, "-" + signing}, clusterFiles: true},
		{name: "kcm elects a leader", controllers: []string{"*"}, clusterFiles: true, leaderElect: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &kcmconfig.Config{}
			c.ComponentConfig.Generic.Controllers = slices.Clone(tt.controllers)
			if tt.clusterFiles {
				c.ComponentConfig.CSRSigningController.ClusterSigningCertFile = "ca.crt"
				c.ComponentConfig.CSRSigningController.ClusterSigningKeyFile = "ca.key"
			}
			c.ComponentConfig.Generic.LeaderElection.LeaderElect = tt.leaderElect
			if tt.specificFiles {
				c.ComponentConfig.CSRSigningController.KubeletClientSignerConfiguration.CertFile = "client.crt"
				c.ComponentConfig.CSRSigningController.KubeletClientSignerConfiguration.KeyFile = "client.key"
			}
			run := takeOverCSRControllers(c.Complete())
			got := c.ComponentConfig.Generic.Controllers
			if tt.want == nil {
				if run != nil || !slices.Equal(got, tt.controllers) {
					t.Fatalf("took over with controllers %v: got %v, run %v", tt.controllers, got, run != nil)
				}
				return
			}
			if run == nil || !slices.Equal(got, tt.want) {
				t.Fatalf("controllers = %v (run %v), want %v", got, run != nil, tt.want)
			}
		})
	}
}
