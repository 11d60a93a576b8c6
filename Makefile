# kdp's build. `make build` puts the binary in bin/kdp; `make test` builds it
# and runs every test against it (internal/testenv starts the embedded
# control plane from that binary).

GO          ?= go
BIN         := $(CURDIR)/bin/kdp
K8S_VERSION := $(shell $(GO) list -m -f '{{.Version}}' k8s.io/kubernetes)
K8S_MINOR   := $(word 2,$(subst ., ,$(K8S_VERSION)))
# A release is tagged v*; anything else is v0.1.0-dev plus the commit.
KDP_VERSION ?= $(shell git describe --tags --match 'v*' 2>/dev/null || echo v0.1.0-dev+$$(git rev-parse --short HEAD 2>/dev/null || echo unknown))
# kdp reads the Kubernetes version from the binary's build information
# (internal/version), so that a plain `go build` reports it too: in
# `kdp version`, `kdp up` and the apiserver's /version. The stamps below are
# for what reads component-base's and client-go's version during package
# initialisation, before any of kdp's code runs: the metrics registry (which
# deprecated metrics it hides; unstamped it hides none), the components'
# start-up logs and client-go's User-Agent. They come from go.mod, as the
# build information does, so the two agree.
COMPONENT   := k8s.io/component-base/version
CLIENTGO    := k8s.io/client-go/pkg/version
LDFLAGS     := -s -w \
	-X github.com/kdp-project/kdp/internal/version.Version=$(KDP_VERSION) \
	-X $(COMPONENT).gitVersion=$(K8S_VERSION) -X $(COMPONENT).gitMajor=1 -X $(COMPONENT).gitMinor=$(K8S_MINOR) \
	-X $(COMPONENT).gitTreeState=clean \
	-X $(CLIENTGO).gitVersion=$(K8S_VERSION) -X $(CLIENTGO).gitMajor=1 -X $(CLIENTGO).gitMinor=$(K8S_MINOR)

.PHONY: build test bench vet clean
build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/kdp

# -p 1: each package with integration tests runs a control plane of its own
# and compresses EKS's waits; on two cores, two packages at once starve each
# other's timing (a drain's scaled timeout, a repair's pace).
test: build vet verify fuzz test-deps
	KDP_BINARY=$(BIN) $(GO) test -p 1 -count=1 -timeout 30m ./...

# What the tests need beyond Go and the machine's aws CLI and python3
# botocore: Debian's chromium, in which kdp advise's HTML report is opened
# headless, and tmux, the terminal the --wait tests read (each installed
# once, with apt, if it is missing).
.PHONY: test-deps
test-deps:
	@command -v chromium >/dev/null 2>&1 || { echo "installing Debian's chromium package (the HTML report's test opens it headless)"; \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); $$sudo apt-get update -qq && $$sudo apt-get install -y -qq --no-install-recommends chromium; }
	@command -v tmux >/dev/null 2>&1 || { echo "installing Debian's tmux package (the --wait tests read its screen)"; \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); $$sudo apt-get update -qq && $$sudo apt-get install -y -qq --no-install-recommends tmux; }

# A short bounded run of each fuzz target over the EKS API's input (the
# corpora in testdata/fuzz are checked in, and plain go test runs them).
.PHONY: fuzz
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzServe$$' -fuzztime 10s ./internal/eksapi
	$(GO) test -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime 10s ./internal/eksapi/auth

# internal/controlplane and cmd/kdp are left out: vetting them means vetting
# all of k8s.io/kubernetes, minutes for nothing of ours; they are compiled
# (so type-checked) by build.
vet:
	$(GO) vet $$($(GO) list ./... | grep -v -e /internal/controlplane -e /cmd/kdp)

# Benchmarks: see docs/benchmarks.md.
# bench runs every benchmark docs/benchmarks.md reports (about an hour).
bench: build
	KDP_BINARY=$(BIN) $(GO) test -run '^$$' -bench . -benchtime 5x -timeout 60m ./internal/testenv/...
	$(GO) test -run '^$$' -bench 'BenchmarkCloud$$' -benchtime 5x ./internal/cloud/sim
	KDP_BINARY=$(BIN) $(GO) test -run '^$$' -bench 'BenchmarkUp$$' -benchtime 3x ./internal/cli
	KDP_BINARY=$(BIN) $(GO) test -run '^$$' -bench 'BenchmarkUpIdle$$' -benchtime 1x ./internal/cli
	KDP_BINARY=$(BIN) $(GO) test -run '^$$' -bench 'BenchmarkJoin$$' -benchtime 5x -timeout 60m ./internal/cli -kdp.nodes=1000
	KDP_BINARY=$(BIN) $(GO) test -run '^$$' -bench 'BenchmarkPods$$' -benchtime 2x -timeout 60m ./internal/cli -kdp.nodes=1000 -kdp.pods=10000
	KDP_BINARY=$(BIN) $(GO) test -run '^$$' -bench 'BenchmarkCreateThreeGroupsOfTen|BenchmarkScaleOutTo450' -benchtime 2x -timeout 30m ./internal/nodegroup
	KDP_BINARY=$(BIN) $(GO) test -run '^$$' -bench 'BenchmarkScaleInFrom450WithBudgets' -benchtime 1x -timeout 40m ./internal/nodegroup
	KDP_BINARY=$(BIN) $(GO) test -run '^$$' -bench 'BenchmarkRollingUpdate30Nodes' -benchtime 1x -timeout 40m ./internal/nodegroup
	KDP_BINARY=$(BIN) $(GO) test -run '^$$' -bench 'BenchmarkDeployment500$$|BenchmarkSinglePod$$' -benchtime 1x -timeout 30m ./internal/fargate
	KDP_BINARY=$(BIN) $(GO) test -run '^$$' -bench 'BenchmarkEKSAPIDescribeNodegroup$$' -benchtime 20000x -timeout 10m ./internal/cli
	KDP_BINARY=$(BIN) $(GO) test -run '^$$' -bench 'BenchmarkCLIDescribeNodegroup$$' -benchtime 10x -timeout 10m ./internal/cli
	KDP_BINARY=$(BIN) $(GO) test -run '^$$' -bench 'BenchmarkCreateCluster$$' -benchtime 5x -timeout 10m ./internal/cli
	KDP_BINARY=$(BIN) $(GO) test -run '^$$' -bench 'BenchmarkFiveIdleClusters$$' -benchtime 1x -timeout 30m ./internal/cli
	$(GO) test -run '^$$' -bench 'BenchmarkVerify' ./internal/eksapi/auth
	$(GO) test -run '^$$' -bench 'BenchmarkAdvise10000Manifests$$' -benchtime 3x ./internal/cli
	$(GO) test -run '^$$' -bench . -benchtime 3x ./internal/advise/...

clean:
	rm -rf bin

CONTROLLER_GEN := $(GO) run sigs.k8s.io/controller-tools/cmd/controller-gen@v0.23.0

# Regenerate deepcopy code and CRD manifests from api/, and the EKS API's
# types from its service model; `make verify` checks that what is checked
# in is current.
.PHONY: generate verify
generate:
	$(CONTROLLER_GEN) object paths=./api/... crd:crdVersions=v1 output:crd:artifacts:config=internal/crds/bases
	$(GO) generate ./internal/eks/types

# Compares the tree as it is (in CI: as committed) with a fresh generation.
verify:
	@tmp=$$(mktemp -d) && cp -r api internal/crds internal/eks/types $$tmp/ && \
	$(MAKE) -s generate && \
	diff -r $$tmp/api api >/dev/null && diff -r $$tmp/crds internal/crds >/dev/null && diff -r $$tmp/types internal/eks/types >/dev/null; \
	status=$$?; rm -rf $$tmp; \
	if [ $$status -ne 0 ]; then echo "generated files are stale: run make generate and commit them"; exit 1; fi
