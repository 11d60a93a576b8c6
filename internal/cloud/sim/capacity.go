package sim

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kdp-project/kdp/internal/cloud"
)

// CapacityConfigMap holds the capacity limits of the simulated cloud
// (kube-system/kdp-sim-capacity), one key per instance type and zone,
// "m5.large_us-east-1a": "2". Without a key, capacity is unlimited.
const CapacityConfigMap = "kdp-sim-capacity"

// Capacity is how many instances of a type a zone can hold at once, set by
// `kdp sim capacity` or a fault scenario. A launch beyond it fails with
// InsufficientInstanceCapacity, and groups retry as EC2 Auto Scaling does.
type Capacity map[string]int

func capacityKey(instanceType, zone string) string { return instanceType + "_" + zone }

// Limit returns the limit of a type in a zone, if there is one.
func (c Capacity) Limit(instanceType, zone string) (int, bool) {
	n, ok := c[capacityKey(instanceType, zone)]
	return n, ok
}

// LoadCapacity reads the limits.
func LoadCapacity(ctx context.Context, c client.Reader) (Capacity, error) {
	cm := &corev1.ConfigMap{}
	err := c.Get(ctx, client.ObjectKey{Namespace: metav1.NamespaceSystem, Name: CapacityConfigMap}, cm)
	if apierrors.IsNotFound(err) {
		return Capacity{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := Capacity{}
	for k, v := range cm.Data {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("ConfigMap %s: %s=%q is not a count", CapacityConfigMap, k, v)
		}
		out[k] = n
	}
	return out, nil
}

// SetCapacity limits how many instances of a type a zone holds; a negative
// n removes the limit.
func (p *Provider) SetCapacity(ctx context.Context, instanceType, zone string, n int) error {
	if _, ok := p.catalog.InstanceType(instanceType); !ok {
		return cloud.Invalid("instance-type", "unknown instance type %q (see kdp sim instance-types)", instanceType)
	}
	zone, ok := catalogZone(p.catalog, zone)
	if !ok {
		return cloud.Invalid("zone", "unknown zone %q (see kdp sim subnets)", zone)
	}
	cm := &corev1.ConfigMap{}
	err := p.client.Get(ctx, client.ObjectKey{Namespace: metav1.NamespaceSystem, Name: CapacityConfigMap}, cm)
	if apierrors.IsNotFound(err) {
		cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceSystem, Name: CapacityConfigMap}}
		if n < 0 {
			return nil
		}
		cm.Data = map[string]string{capacityKey(instanceType, zone): strconv.Itoa(n)}
		return p.client.Create(ctx, cm)
	}
	if err != nil {
		return err
	}
	base := cm.DeepCopy()
	if cm.Data == nil {
		cm.Data = map[string]string{}
	}
	if n < 0 {
		delete(cm.Data, capacityKey(instanceType, zone))
	} else {
		cm.Data[capacityKey(instanceType, zone)] = strconv.Itoa(n)
	}
	return p.client.Patch(ctx, cm, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
}

// catalogZone finds a zone by name, whatever its case, and returns the
// catalogue's spelling.
func catalogZone(c *Catalog, zone string) (string, bool) {
	for _, s := range c.Subnets() {
		if strings.EqualFold(s.Zone, zone) {
			return s.Zone, true
		}
	}
	return zone, false
}
