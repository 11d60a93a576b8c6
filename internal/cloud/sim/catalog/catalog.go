// Package catalog is what the simulated region offers, as data: instance
// types with their on-demand and spot prices, node images, subnets. It is
// the one catalogue of prices kdp has: the simulated cloud launches from it
// and the cost tools price with it.
package catalog

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/kdp-project/kdp/internal/cloud"
)

//go:embed data/*.yaml
var data embed.FS

// Catalog is what the simulated region offers: instance types, images and
// subnets. It is data (data/*.yaml, embedded), not code.
type Catalog struct {
	Region  string
	types   []cloud.InstanceType
	byType  map[string]cloud.InstanceType
	images  []cloud.Image
	byImage map[string]cloud.Image
	subnets []cloud.Subnet
	fargate FargatePrices
}

// FargatePrices is what Fargate on EKS costs per hour, Linux on x86, with
// where the figures come from (data/fargate-prices.yaml).
type FargatePrices struct {
	// Source and AsOf say where the prices were read and when.
	Source string `json:"source"`
	AsOf   string `json:"asOf"`
	// Region is the region the prices were read for. The catalogue holds
	// us-east-1's prices and serves them for every region it simulates:
	// other regions' Fargate rates differ (most are a little dearer) and are
	// not recorded yet.
	Region string `json:"region"`
	// VCPUPerHour and GBPerHour are the price of one provisioned vCPU and
	// one provisioned GB (Fargate's GB: GiB, see internal/fargate/sizing)
	// for an hour.
	VCPUPerHour float64 `json:"vcpuPerHour"`
	GBPerHour   float64 `json:"gbPerHour"`
	// EphemeralStorageGBPerHour is the price of a GB of ephemeral storage
	// above IncludedEphemeralStorageGB, for an hour.
	EphemeralStorageGBPerHour  float64 `json:"ephemeralStorageGBPerHour"`
	IncludedEphemeralStorageGB int64   `json:"includedEphemeralStorageGB"`
}

type imageSpec struct {
	KubernetesVersions []string `json:"kubernetesVersions"`
	Releases           []string `json:"releases"`
	AMITypes           []struct {
		Name         string `json:"name"`
		Architecture string `json:"architecture"`
	} `json:"amiTypes"`
}

// New loads the embedded catalogue for a region with the given number of
// zones (a, b, c, ...).
func New(region string, zones int) (*Catalog, error) {
	c := &Catalog{Region: region, byType: map[string]cloud.InstanceType{}, byImage: map[string]cloud.Image{}}
	raw, err := data.ReadFile("data/instance-types.yaml")
	if err != nil {
		return nil, err
	}
	if err := yaml.UnmarshalStrict(raw, &c.types); err != nil {
		return nil, fmt.Errorf("instance-types.yaml: %w", err)
	}
	for i := range c.types {
		t := &c.types[i]
		t.Family, _, _ = strings.Cut(t.Name, ".")
		c.byType[t.Name] = *t
	}

	raw, err = data.ReadFile("data/fargate-prices.yaml")
	if err != nil {
		return nil, err
	}
	if err := yaml.UnmarshalStrict(raw, &c.fargate); err != nil {
		return nil, fmt.Errorf("fargate-prices.yaml: %w", err)
	}

	raw, err = data.ReadFile("data/images.yaml")
	if err != nil {
		return nil, err
	}
	var spec imageSpec
	if err := yaml.UnmarshalStrict(raw, &spec); err != nil {
		return nil, fmt.Errorf("images.yaml: %w", err)
	}
	for _, kv := range spec.KubernetesVersions {
		for _, rel := range spec.Releases {
			released, err := time.Parse("20060102", rel)
			if err != nil {
				return nil, fmt.Errorf("images.yaml: release %q: %w", rel, err)
			}
			for _, at := range spec.AMITypes {
				release := kv + "-" + rel
				img := cloud.Image{
					ID:                "ami-" + hashHex(at.Name+"/"+release, 17),
					Type:              at.Name,
					KubernetesVersion: kv,
					ReleaseVersion:    release,
					Architecture:      at.Architecture,
					Released:          released,
				}
				c.images = append(c.images, img)
				c.byImage[img.ID] = img
			}
		}
	}

	if zones < 1 || zones > 6 {
		return nil, cloud.Invalid("zones", "must be between 1 and 6, got %d", zones)
	}
	for i := range zones {
		zone := region + string(rune('a'+i))
		for _, public := range []bool{false, true} {
			n := i * 2
			kind := "private"
			if public {
				n++
				kind = "public"
			}
			c.subnets = append(c.subnets, cloud.Subnet{
				ID:     "subnet-" + hashHex(region+"/"+zone+"/"+kind, 17),
				Zone:   zone,
				CIDR:   fmt.Sprintf("10.0.%d.0/20", n*16),
				Public: public,
			})
		}
	}
	for i := range c.types {
		t := &c.types[i]
		t.SpotPrices = map[string]float64{}
		for _, z := range c.Zones() {
			t.SpotPrices[z], _ = c.SpotPrice(t.Name, z)
		}
		c.byType[t.Name] = *t
	}
	return c, nil
}

// Zones returns the region's zones, in order.
func (c *Catalog) Zones() []string {
	var out []string
	for _, s := range c.subnets {
		if !slices.Contains(out, s.Zone) {
			out = append(out, s.Zone)
		}
	}
	return out
}

// Zone finds a zone by name, whatever its case, and returns the
// catalogue's spelling.
func (c *Catalog) Zone(name string) (string, bool) {
	for _, z := range c.Zones() {
		if strings.EqualFold(z, name) {
			return z, true
		}
	}
	return name, false
}

// HasInstanceType and HasZone tell whether the catalogue knows a type and a
// zone (a scenario's names are checked with them).
func (c *Catalog) HasInstanceType(name string) bool { _, ok := c.byType[name]; return ok }
func (c *Catalog) HasZone(name string) bool         { _, ok := c.Zone(name); return ok }

// InstanceTypes returns every instance type, in catalogue order.
func (c *Catalog) InstanceTypes() []cloud.InstanceType { return slices.Clone(c.types) }

// InstanceType looks a type up by name.
func (c *Catalog) InstanceType(name string) (cloud.InstanceType, bool) {
	t, ok := c.byType[name]
	return t, ok
}

// FargatePrices returns Fargate's prices for the catalogue's region (see
// FargatePrices.Region for which region's figures they are).
func (c *Catalog) FargatePrices() FargatePrices { return c.fargate }

// Images returns every image, newest Kubernetes version and release first.
func (c *Catalog) Images() []cloud.Image { return slices.Clone(c.images) }

// Image looks an image up by id.
func (c *Catalog) Image(id string) (cloud.Image, bool) {
	img, ok := c.byImage[id]
	return img, ok
}

// LatestImage is the newest release of an AMI type for a Kubernetes minor
// version ("1.37"), which is what a new node group gets by default.
func (c *Catalog) LatestImage(amiType, minor string) (cloud.Image, bool) {
	for _, img := range c.images { // newest first
		if img.Type == amiType && strings.HasPrefix(img.KubernetesVersion, minor+".") {
			return img, true
		}
	}
	return cloud.Image{}, false
}

// Subnets returns every subnet: a private and a public one per zone.
func (c *Catalog) Subnets() []cloud.Subnet { return slices.Clone(c.subnets) }

// Subnet looks a subnet up by id.
func (c *Catalog) Subnet(id string) (cloud.Subnet, bool) {
	for _, s := range c.subnets {
		if s.ID == id {
			return s, true
		}
	}
	return cloud.Subnet{}, false
}

// PrivateSubnets returns the private subnets, one per zone.
func (c *Catalog) PrivateSubnets() []cloud.Subnet {
	var out []cloud.Subnet
	for _, s := range c.subnets {
		if !s.Public {
			out = append(out, s)
		}
	}
	return out
}

// SpotPrice is the simulated spot price of a type in a zone: a stable
// discount of 60–75 % off on-demand, varying by type and zone.
func (c *Catalog) SpotPrice(instanceType, zone string) (float64, bool) {
	t, ok := c.byType[instanceType]
	if !ok {
		return 0, false
	}
	h := sha256.Sum256([]byte(instanceType + "/" + zone))
	discount := 0.60 + 0.15*float64(h[0])/255
	return t.OnDemandPrice * (1 - discount), true
}

// PrivateDNSName is EC2's private DNS name for an IP in us-east-1
// (ip-10-0-1-23.ec2.internal) or another region
// (ip-10-0-1-23.eu-west-1.compute.internal).
func PrivateDNSName(region, ip string) string {
	host := "ip-" + strings.ReplaceAll(ip, ".", "-")
	if region == "us-east-1" {
		return host + ".ec2.internal"
	}
	return host + "." + region + ".compute.internal"
}

func hashHex(s string, n int) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])[:n]
}
