package cost

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/kdp-project/kdp/internal/cloud/sim/catalog"
	"github.com/kdp-project/kdp/internal/fargate/sizing"
)

// FargateCost is what pods of one template cost on Fargate.
type FargateCost struct {
	// Size is what each pod is provisioned (sizing.Size).
	Size sizing.Result
	// Pods is how many pods run.
	Pods int64
	// HourlyPerPod is one pod's price per hour, on demand.
	HourlyPerPod float64
	// Monthly is every pod's price for a month, on demand;
	// MonthlySavingsPlan with a Compute Savings Plan.
	Monthly, MonthlySavingsPlan float64
}

// Fargate prices pods running pod's spec on Fargate. A pod larger than
// Fargate's largest size gets sizing's *TooLargeError.
func Fargate(pod *corev1.Pod, pods int64, p catalog.FargatePrices, d Discounts) (FargateCost, error) {
	size, err := sizing.Size(pod)
	if err != nil {
		return FargateCost{}, err
	}
	return FargateOfSize(size, pods, p, d), nil
}

// FargateOfSize prices pods of a known Fargate size.
func FargateOfSize(size sizing.Result, pods int64, p catalog.FargatePrices, d Discounts) FargateCost {
	hourly := float64(size.MilliCPU)/1000*p.VCPUPerHour +
		float64(size.MemoryMiB)/1024*p.GBPerHour +
		float64(max(0, size.EphemeralStorageGiB-p.IncludedEphemeralStorageGB))*p.EphemeralStorageGBPerHour
	m := monthly(hourly) * float64(pods)
	return FargateCost{Size: size, Pods: pods, HourlyPerPod: hourly, Monthly: m, MonthlySavingsPlan: m * (1 - d.FargateSavingsPlan)}
}
