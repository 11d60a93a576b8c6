// Package cost prices workloads on each EKS data plane, as pure arithmetic
// over the catalogue's prices (internal/cloud/sim/catalog): no cluster, no
// network.
//
// A month is HoursPerMonth (730) hours.
//
// Fargate (Fargate): a pod is billed for the size internal/fargate/sizing
// gives it, the same function the Fargate scheduler provisions with: vCPU ×
// the vCPU-hour price + GB × the GB-hour price + ephemeral storage above the
// included 20 GB × its GB-hour price (eks-data-plane.md section 4.5).
//
// EC2 (Pack, CheapestEC2): the pods' requests (sizing.Requests: limits stand
// for missing requests, init containers as Kubernetes counts them) are
// packed first-fit-decreasing onto nodes of one instance type, and the type
// whose total is cheapest is chosen. Each node offers its capacity less what
// EKS's AMI reserves (Reserved: kube-reserved CPU of 6% of the first core,
// 1% of the second, 0.5% of the third and fourth and 0.25% of every further
// one; kube-reserved memory of 255 MiB + 11 MiB per pod the node may run; an
// eviction threshold of 100 MiB; from amazon-eks-ami's bootstrap), less
// every DaemonSet's pod (each node runs one of each), and at most the
// type's max pods (ENIs × (IPs per ENI − 1) + 2) including the DaemonSet
// pods. GPUs (nvidia.com/gpu, amd.com/gpu) are a third dimension packed
// against the type's GPUs.
//
// Discounts are stated, not looked up; see DefaultDiscounts for each rate
// and where it comes from.
package cost

import (
	"github.com/kdp-project/kdp/internal/cloud"
)

// HoursPerMonth is the month the prices are multiplied by: 365 × 24 / 12.
const HoursPerMonth = 730

// Discounts are the fractions off the on-demand price that commitments
// bring.
type Discounts struct {
	// FargateSavingsPlan is a Compute Savings Plan's discount on Fargate.
	FargateSavingsPlan float64
	// EC2SavingsPlan is a Compute Savings Plan's discount on EC2.
	EC2SavingsPlan float64
	// ReservedInstance is a Reserved Instance's discount.
	ReservedInstance float64
}

// DefaultDiscounts are the rates kdp assumes:
//   - Fargate, Compute Savings Plan: 50%, the reference's "roughly 50–52%"
//     (eks-data-plane.md section 4.5; that is the 3-year figure);
//   - EC2, Compute Savings Plan: 28%, an ASSUMPTION: 1-year, no upfront, as
//     AWS's price list gives it for m5/m6i in us-east-1 (the reference
//     gives only "up to 66%", 3 years, section 5);
//   - Reserved Instances: 37%, an ASSUMPTION: 1-year, no upfront, standard,
//     m5/m6i in us-east-1 (the reference: "up to 72%", section 5).
var DefaultDiscounts = Discounts{FargateSavingsPlan: 0.50, EC2SavingsPlan: 0.28, ReservedInstance: 0.37}

// monthly is an hourly price over a month.
func monthly(hourly float64) float64 { return hourly * HoursPerMonth }

// SpotPrice is the spot price per hour kdp prices a type at: the mean of
// its zones' spot prices (spot capacity is spread over zones), the
// on-demand price if the catalogue has none.
func SpotPrice(t cloud.InstanceType) float64 {
	if len(t.SpotPrices) == 0 {
		return t.OnDemandPrice
	}
	var sum float64
	for _, p := range t.SpotPrices {
		sum += p
	}
	return sum / float64(len(t.SpotPrices))
}
