package eks

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// getFresh reads the cluster-scoped object name into obj from the cache,
// and from the API server when the cache has not seen it (yet): a
// Describe right after a Create finds what the Create made.
func (s *Service) getFresh(ctx context.Context, name string, obj client.Object) error {
	err := s.r.Get(ctx, clientKey(name), obj)
	if apierrors.IsNotFound(err) {
		err = s.c.Get(ctx, clientKey(name), obj)
	}
	return err
}

// clientKey is the key of a cluster-scoped object.
func clientKey(name string) client.ObjectKey { return client.ObjectKey{Name: name} }
