package catalog

import (
	"strings"
	"testing"
)

func TestCatalogMaxPodsMatchesEKS(t *testing.T) {
	c, err := New("us-east-1", 3)
	if err != nil {
		t.Fatal(err)
	}
	// Values from amazon-eks-ami's eni-max-pods.txt.
	for name, want := range map[string]int{
		"t3.micro": 4, "t3.small": 11, "t3.medium": 17, "t3.large": 35,
		"m5.large": 29, "m5.xlarge": 58, "m5.4xlarge": 234, "m7g.medium": 8,
		"c6i.large": 29, "g5.12xlarge": 737, "p4d.24xlarge": 737,
	} {
		it, ok := c.InstanceType(name)
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if got := it.MaxPods(); got != want {
			t.Errorf("%s: max pods %d, want %d", name, got, want)
		}
	}
}

func TestCatalogFamiliesAndImages(t *testing.T) {
	c, err := New("us-east-1", 3)
	if err != nil {
		t.Fatal(err)
	}
	families := map[string]bool{}
	for _, it := range c.InstanceTypes() {
		families[it.Family] = true
		if it.VCPU <= 0 || it.MemoryMiB <= 0 || it.OnDemandPrice <= 0 {
			t.Errorf("%s: incomplete %+v", it.Name, it)
		}
		spot, _ := c.SpotPrice(it.Name, "us-east-1a")
		if spot <= 0 || spot >= it.OnDemandPrice*0.5 {
			t.Errorf("%s: spot %.4f vs on-demand %.4f", it.Name, spot, it.OnDemandPrice)
		}
	}
	for _, f := range []string{"t3", "m5", "m6i", "m7g", "c6i", "c7g", "r6i", "g5", "p4d"} {
		if !families[f] {
			t.Errorf("family %s missing", f)
		}
	}
	img, ok := c.LatestImage("AL2023_x86_64_STANDARD", "1.37")
	if !ok || img.ReleaseVersion != "1.37.2-20261101" || !strings.HasPrefix(img.ID, "ami-") || len(img.ID) != 21 {
		t.Fatalf("latest 1.37 image: %+v", img)
	}
	if got, _ := c.Image(img.ID); got != img {
		t.Errorf("lookup by id: %+v", got)
	}
	releases := map[string]int{}
	for _, i := range c.Images() {
		if i.Type == "AL2023_ARM_64_STANDARD" {
			releases[i.KubernetesVersion]++
		}
	}
	for _, v := range []string{"1.37.2", "1.36.3", "1.35.5", "1.34.7"} {
		if releases[v] < 3 {
			t.Errorf("%s: %d releases, want at least 3", v, releases[v])
		}
	}
}

func TestSubnetsAndAddresses(t *testing.T) {
	c, err := New("us-east-1", 3)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(c.Subnets()); n != 6 {
		t.Fatalf("%d subnets, want 6", n)
	}
	zones := map[string]bool{}
	for _, s := range c.PrivateSubnets() {
		zones[s.Zone] = true
		if !strings.HasPrefix(s.ID, "subnet-") || len(s.ID) != 24 {
			t.Errorf("subnet id %q", s.ID)
		}
	}
	if len(zones) != 3 || !zones["us-east-1a"] || !zones["us-east-1c"] {
		t.Errorf("zones %v", zones)
	}
	if got := PrivateDNSName("us-east-1", "10.0.1.23"); got != "ip-10-0-1-23.ec2.internal" {
		t.Error(got)
	}
	if got := PrivateDNSName("eu-west-1", "10.0.1.23"); got != "ip-10-0-1-23.eu-west-1.compute.internal" {
		t.Error(got)
	}
}

func TestCatalogFargatePrices(t *testing.T) {
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		c, err := New(region, 3)
		if err != nil {
			t.Fatal(err)
		}
		got := c.FargatePrices()
		want := FargatePrices{
			Source:                     got.Source,
			AsOf:                       "2026-11",
			Region:                     "us-east-1",
			VCPUPerHour:                0.04048,
			GBPerHour:                  0.004445,
			EphemeralStorageGBPerHour:  0.000111,
			IncludedEphemeralStorageGB: 20,
		}
		if got != want || !strings.Contains(got.Source, "aws.amazon.com/fargate/pricing") {
			t.Errorf("%s: Fargate prices %+v, want %+v from aws.amazon.com/fargate/pricing", region, got, want)
		}
	}
}
