// Package advise is the engine of kdp advise: for each workload, which of
// EKS's three data planes can run it and why not the others, which to use
// and the cost levers that apply there, what it costs on each, and for the
// cluster as a whole the cheapest mix that keeps every rule and the cost on
// each single option. It is pure: workloads in (read by the CLI from
// manifests or a cluster), a Report out; no network, no API server.
//
// # Placement (Place)
//
// Fargate cannot run what internal/fargate/support refuses, the same checks
// the Fargate scheduler refuses pods with, in EKS's words (EKS User Guide,
// "Fargate considerations"; eks-data-plane.md section 4.4): DaemonSets;
// privileged containers and added capabilities; hostNetwork, hostPID,
// hostIPC; hostPort and hostIP; hostPath and other volumes Fargate cannot
// mount; GPUs and other extended resources; arm64 or Windows node
// selectors and required affinities; zones outside the region (Local Zones,
// named region-city-Na like us-east-1-bos-1a, and Wavelength Zones, named
// region-wl1-city-wlz-N, on topology.kubernetes.io/zone or its beta label);
// and EBS-backed persistent volumes. A claim is EBS-backed by
// StorageClasses.EBS: its class's provisioner is ebs.csi.aws.com or
// kubernetes.io/aws-ebs, or for a class the manifests do not define, its
// name contains "ebs" or is an EBS volume type (gp2, gp3, io1, io2, st1,
// sc1, standard); a claim with no class has the default class, gp2 on EKS.
// Pods larger than Fargate's largest size (16 vCPU, 120 GB, 175 GiB of
// ephemeral storage) are refused by internal/fargate/sizing's Size, the
// one sizing function. An Outpost cannot be told from a manifest's zones
// (its subnets are in the region's zones): the workload annotation
// advise.kdp.dev/placement ("outposts", "wavelength", "local-zone") says so.
//
// Managed node groups run in Local Zones but not in Wavelength Zones or on
// Outposts (eks-data-plane.md section 5's table); self-managed nodes run
// everything. Every reason names its rule and the field of the manifest at
// fault, e.g. spec.template.spec.containers[0].securityContext.privileged,
// or spec.volumeClaimTemplates[0] for a StatefulSet's EBS claim.
//
// # Recommendation
//
// Fargate first where it can run the workload, managed node groups
// otherwise, self-managed nodes only where nothing else can (the seed
// deck's "how to choose"). Levers: a Compute Savings Plan on Fargate; on
// EC2 Compute Savings Plans and Reserved Instances, Spot only for workloads
// that survive interruption (more than one replica and a
// PodDisruptionBudget, or a Job that retries), Graviton only where the
// images are multi-arch (Workload.MultiArch, which the CLI sets from
// --graviton-ok, or the annotation advise.kdp.dev/multi-arch: "true").
//
// # Cost
//
// Each workload is priced alone on each option by internal/advise/cost
// (Fargate sizes; EC2 nodes of the cheapest type for its pods, with every
// DaemonSet's pod and the kubelet's reserve on each node). The cluster
// summary prices whole plans: three assignments that keep every rule
// (Fargate first; nodes first; Fargate only where a workload's Fargate
// price is below its share of the nodes-first pools) of which the cheapest
// on demand is the mix, and each single option with the workloads it
// cannot run listed, not dropped. EC2 workloads are packed together by
// pool (option, GPUs, Spot tolerance, Graviton), each pool's nodes running
// every DaemonSet. Workloads are keyed by ID (kind, namespace, name), which
// the input must keep unique.
package advise
