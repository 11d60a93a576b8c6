// Command kdp is Kubernetes data-plane management: see README.md.
package main

import (
	"context"
	"os"

	"github.com/kdp-project/kdp/internal/cli"
	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/controlplane"
	"github.com/kdp-project/kdp/internal/pki"
)

func main() {
	os.Exit(cli.Main(cli.Deps{
		StartControlPlane: func(ctx context.Context, cfg cluster.Config, ls cluster.Listeners, b *pki.Bundle) (cli.ControlPlane, error) {
			return controlplane.Start(ctx, cfg, ls, b)
		},
	}))
}
