// Package simapi serves the simulated cloud to kdp's CLI, on a unix socket
// in the data directory, and is its client: Client implements
// cloud.Provider and the simulator's faults over it, so the CLI calls the
// cloud the way kdp's controllers do. The protocol is kdp's own and small:
// POST /v1/<Operation> with the operation's input as JSON, the output as
// JSON, and typed errors that the client turns back into cloud's error
// types; events stream as JSON lines.
package simapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/go-logr/logr"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim"
	"github.com/kdp-project/kdp/internal/cloud/sim/scenario"
)

// Info describes the cloud a server serves.
type Info struct {
	Cluster    string  `json:"cluster"`
	Region     string  `json:"region"`
	Zones      int     `json:"zones"`
	Profile    string  `json:"profile"`
	TimeScale  float64 `json:"timeScale"`
	Seed       uint64  `json:"seed"`
	SpotNotice string  `json:"spotNotice"`
	// LatestEvent is the sequence number of the newest event.
	LatestEvent uint64 `json:"latestEvent"`
}

// Serve serves the provider's cloud on a unix socket at path until ctx
// ends. Only the socket's owner may connect.
func Serve(ctx context.Context, path string, p *sim.Provider, log logr.Logger) error {
	_ = os.Remove(path) // a socket left by a process that died
	l, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("serving the simulated cloud on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return err
	}
	srv := &http.Server{Handler: Handler(p, log), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		_ = srv.Close() // event streams do not end on their own
	}()
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(err, "simulated cloud API stopped")
		}
	}()
	return nil
}

// op is one operation: it decodes its input from the body and returns its
// output.
type op func(ctx context.Context, p *sim.Provider, body []byte) (any, error)

func decode[T any](body []byte) (T, error) {
	var in T
	if len(body) == 0 {
		return in, nil
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return in, cloud.Invalid("body", "%v", err)
	}
	return in, nil
}

// with adapts a method of one input and one output.
func with[In, Out any](fn func(context.Context, *sim.Provider, In) (Out, error)) op {
	return func(ctx context.Context, p *sim.Provider, body []byte) (any, error) {
		in, err := decode[In](body)
		if err != nil {
			return nil, err
		}
		return fn(ctx, p, in)
	}
}

// Inputs of the operations whose methods take more than one argument.
type (
	nameInput struct {
		Name string `json:"name"`
	}
	idInput struct {
		ID string `json:"instanceId"`
	}
	pageInput struct {
		Name string `json:"name,omitempty"`
		cloud.Page
	}
	updateGroupInput struct {
		Name string `json:"autoScalingGroupName"`
		cloud.GroupUpdate
	}
	versionInput struct {
		Template cloud.TemplateRef `json:"launchTemplate"`
		cloud.LaunchTemplateVersionInput
	}
	hookInput struct {
		Group string `json:"autoScalingGroupName"`
		cloud.LifecycleHook
	}
	processesInput struct {
		Group     string   `json:"autoScalingGroupName"`
		Processes []string `json:"scalingProcesses,omitempty"`
	}
	listInstancesInput struct {
		cloud.InstanceFilter
		cloud.Page
	}
	terminateInput struct {
		ID       string `json:"instanceId"`
		Decrease bool   `json:"shouldDecrementDesiredCapacity"`
	}
	conditionInput struct {
		ID        string `json:"instanceId"`
		Condition string `json:"condition"`
		Reason    string `json:"reason"`
	}
	retirementInput struct {
		ID string         `json:"instanceId"`
		In cloud.Duration `json:"in"`
	}
	capacityInput struct {
		InstanceType string `json:"instanceType"`
		Zone         string `json:"zone"`
		Available    int    `json:"available"`
	}
	slowBootInput struct {
		Group    string         `json:"autoScalingGroupName"`
		Delay    cloud.Duration `json:"delay"`
		Duration cloud.Duration `json:"duration"`
	}
	launchFailureInput struct {
		Group        string         `json:"autoScalingGroupName"`
		InstanceType string         `json:"instanceType,omitempty"`
		Zone         string         `json:"zone,omitempty"`
		Rate         float64        `json:"rate"`
		Duration     cloud.Duration `json:"duration"`
		Seed         uint64         `json:"seed"`
	}
	// page is a list and the token of its next page.
	page[T any] struct {
		Items     []T    `json:"items"`
		NextToken string `json:"nextToken,omitempty"`
	}
	zoneInput struct {
		Zone string `json:"zone"`
	}
	zoneOutageOutput struct {
		KubeletsFailed int `json:"kubeletsFailed"`
	}
)

func paged[T any](items []T, next string, err error) (page[T], error) {
	return page[T]{Items: items, NextToken: next}, err
}

var none = struct{}{}

// ops are the operations, by name.
var ops = map[string]op{
	"Info": func(_ context.Context, p *sim.Provider, _ []byte) (any, error) {
		o, t := p.Cloud().Options(), p.Cloud().Timing()
		return Info{Cluster: p.Cluster(), Region: o.Region, Zones: o.Zones, Profile: o.Profile, TimeScale: float64(o.Scale),
			Seed: p.Cloud().Seed(), SpotNotice: t.SpotNotice.String(), LatestEvent: p.Cloud().LatestEvent()}, nil
	},
	"Account": with(func(ctx context.Context, p *sim.Provider, _ struct{}) (cloud.Account, error) { return p.Account(ctx) }),
	"InstanceTypes": with(func(ctx context.Context, p *sim.Provider, _ struct{}) ([]cloud.InstanceType, error) {
		return p.InstanceTypes(ctx)
	}),
	"Images":  with(func(ctx context.Context, p *sim.Provider, _ struct{}) ([]cloud.Image, error) { return p.Images(ctx) }),
	"Subnets": with(func(ctx context.Context, p *sim.Provider, _ struct{}) ([]cloud.Subnet, error) { return p.Subnets(ctx) }),
	"CreateLaunchTemplate": with(func(ctx context.Context, p *sim.Provider, in cloud.LaunchTemplateInput) (*cloud.LaunchTemplate, error) {
		return p.CreateLaunchTemplate(ctx, in)
	}),
	"GetLaunchTemplate": with(func(ctx context.Context, p *sim.Provider, in cloud.TemplateRef) (*cloud.LaunchTemplate, error) {
		return p.GetLaunchTemplate(ctx, in)
	}),
	"ListLaunchTemplates": with(func(ctx context.Context, p *sim.Provider, in cloud.Page) (page[cloud.LaunchTemplate], error) {
		return paged(p.ListLaunchTemplates(ctx, in))
	}),
	"CreateLaunchTemplateVersion": with(func(ctx context.Context, p *sim.Provider, in versionInput) (*cloud.LaunchTemplateVersion, error) {
		return p.CreateLaunchTemplateVersion(ctx, in.Template, in.LaunchTemplateVersionInput)
	}),
	"DeleteLaunchTemplate": with(func(ctx context.Context, p *sim.Provider, in cloud.TemplateRef) (any, error) {
		return none, p.DeleteLaunchTemplate(ctx, in)
	}),
	"CreateGroup": with(func(ctx context.Context, p *sim.Provider, in cloud.GroupInput) (*cloud.Group, error) {
		return p.CreateGroup(ctx, in)
	}),
	"GetGroup": with(func(ctx context.Context, p *sim.Provider, in nameInput) (*cloud.Group, error) {
		return p.GetGroup(ctx, in.Name)
	}),
	"ListGroups": with(func(ctx context.Context, p *sim.Provider, in cloud.Page) (page[cloud.Group], error) {
		return paged(p.ListGroups(ctx, in))
	}),
	"UpdateGroup": with(func(ctx context.Context, p *sim.Provider, in updateGroupInput) (*cloud.Group, error) {
		return p.UpdateGroup(ctx, in.Name, in.GroupUpdate)
	}),
	"DeleteGroup": with(func(ctx context.Context, p *sim.Provider, in nameInput) (any, error) {
		return none, p.DeleteGroup(ctx, in.Name)
	}),
	"PutLifecycleHook": with(func(ctx context.Context, p *sim.Provider, in hookInput) (any, error) {
		return none, p.PutLifecycleHook(ctx, in.Group, in.LifecycleHook)
	}),
	"DeleteLifecycleHook": with(func(ctx context.Context, p *sim.Provider, in hookInput) (any, error) {
		return none, p.DeleteLifecycleHook(ctx, in.Group, in.Name)
	}),
	"SuspendProcesses": with(func(ctx context.Context, p *sim.Provider, in processesInput) (any, error) {
		return none, p.SuspendProcesses(ctx, in.Group, in.Processes)
	}),
	"ResumeProcesses": with(func(ctx context.Context, p *sim.Provider, in processesInput) (any, error) {
		return none, p.ResumeProcesses(ctx, in.Group, in.Processes)
	}),
	"ListActivities": with(func(ctx context.Context, p *sim.Provider, in pageInput) (page[cloud.Activity], error) {
		return paged(p.ListActivities(ctx, in.Name, in.Page))
	}),
	"RunInstances": with(func(ctx context.Context, p *sim.Provider, in cloud.RunInput) ([]cloud.Instance, error) {
		return p.RunInstances(ctx, in)
	}),
	"GetInstance": with(func(ctx context.Context, p *sim.Provider, in idInput) (*cloud.Instance, error) {
		return p.GetInstance(ctx, in.ID)
	}),
	"ListInstances": with(func(ctx context.Context, p *sim.Provider, in listInstancesInput) (page[cloud.Instance], error) {
		return paged(p.ListInstances(ctx, in.InstanceFilter, in.Page))
	}),
	"GetUserData": with(func(ctx context.Context, p *sim.Provider, in idInput) (string, error) {
		return p.GetUserData(ctx, in.ID)
	}),
	"TerminateInstance": with(func(ctx context.Context, p *sim.Provider, in terminateInput) (any, error) {
		return none, p.TerminateInstance(ctx, in.ID, in.Decrease)
	}),
	"CompleteLifecycleAction": with(func(ctx context.Context, p *sim.Provider, in cloud.LifecycleAction) (any, error) {
		return none, p.CompleteLifecycleAction(ctx, in)
	}),
	"RecordLifecycleActionHeartbeat": with(func(ctx context.Context, p *sim.Provider, in cloud.LifecycleAction) (any, error) {
		return none, p.RecordLifecycleActionHeartbeat(ctx, in)
	}),
	"Launched": with(func(ctx context.Context, p *sim.Provider, in idInput) (*cloud.Launch, error) {
		return p.Launched(ctx, in.ID)
	}),

	"Interrupt": with(func(ctx context.Context, p *sim.Provider, in idInput) (any, error) {
		return none, p.Interrupt(ctx, in.ID)
	}),
	"Rebalance": with(func(ctx context.Context, p *sim.Provider, in idInput) (any, error) {
		return none, p.Rebalance(ctx, in.ID)
	}),
	"FailKubelet": with(func(ctx context.Context, p *sim.Provider, in idInput) (any, error) {
		return none, p.FailKubelet(ctx, in.ID)
	}),
	"FailCondition": with(func(ctx context.Context, p *sim.Provider, in conditionInput) (any, error) {
		return none, p.FailCondition(ctx, in.ID, in.Condition, in.Reason)
	}),
	"ScheduleRetirement": with(func(ctx context.Context, p *sim.Provider, in retirementInput) (any, error) {
		return none, p.ScheduleRetirement(ctx, in.ID, in.In.Duration)
	}),
	"SetCapacity": with(func(ctx context.Context, p *sim.Provider, in capacityInput) (any, error) {
		return none, p.SetCapacity(ctx, in.InstanceType, in.Zone, in.Available)
	}),
	"Capacity": with(func(ctx context.Context, p *sim.Provider, _ struct{}) ([]sim.CapacityLimit, error) {
		return p.Capacity(ctx)
	}),
	"ZoneOutage": with(func(ctx context.Context, p *sim.Provider, in zoneInput) (zoneOutageOutput, error) {
		n, err := p.ZoneOutage(ctx, in.Zone)
		return zoneOutageOutput{KubeletsFailed: n}, err
	}),
	"SetSlowBoot": with(func(ctx context.Context, p *sim.Provider, in slowBootInput) (any, error) {
		return none, p.SetSlowBoot(ctx, in.Group, in.Delay.Duration, in.Duration.Duration)
	}),
	"SetLaunchFailure": with(func(ctx context.Context, p *sim.Provider, in launchFailureInput) (any, error) {
		return none, p.SetLaunchFailure(ctx, in.Group, sim.LaunchFailure{InstanceType: in.InstanceType, Zone: in.Zone, Rate: in.Rate, Duration: in.Duration.Duration, Seed: in.Seed})
	}),
	"StartScenario": with(func(ctx context.Context, p *sim.Provider, in scenario.Scenario) (*sim.ScenarioStatus, error) {
		return p.StartScenario(ctx, &in)
	}),
	"ScenarioStatus": with(func(ctx context.Context, p *sim.Provider, in nameInput) (*sim.ScenarioStatus, error) {
		return p.ScenarioStatus(ctx, in.Name)
	}),
	"StopScenario": with(func(ctx context.Context, p *sim.Provider, in nameInput) (*sim.ScenarioStatus, error) {
		return p.StopScenario(ctx, in.Name)
	}),
}

// Handler is the API's HTTP handler.
func Handler(p *sim.Provider, log logr.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/Subscribe", func(w http.ResponseWriter, r *http.Request) { subscribe(w, r, p) })
	mux.HandleFunc("POST /v1/{op}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("op")
		fn, ok := ops[name]
		if !ok {
			writeError(w, &cloud.NotFoundError{Kind: "operation", Name: name})
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			writeError(w, err)
			return
		}
		out, err := fn(r.Context(), p, body)
		if err != nil {
			log.V(1).Info("request failed", "operation", name, "error", err.Error())
			writeError(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	return mux
}

// streamed is one line of an event stream.
type streamed struct {
	Sequence uint64      `json:"sequence"`
	Event    cloud.Event `json:"event"`
}

// subscribe streams events as JSON lines, flushed as they come.
func subscribe(w http.ResponseWriter, r *http.Request, p *sim.Provider) {
	since, err := strconv.ParseUint(r.URL.Query().Get("since"), 10, 64)
	if err != nil {
		writeError(w, cloud.Invalid("since", "must be a sequence number, got %q", r.URL.Query().Get("since")))
		return
	}
	events, err := p.Subscribe(r.Context(), since)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	enc := json.NewEncoder(w)
	for e := range events {
		if enc.Encode(streamed{Sequence: e.Sequence, Event: e}) != nil {
			return
		}
		if flusher != nil && len(events) == 0 {
			flusher.Flush()
		}
	}
}

// wireError is an error as the API writes it.
type wireError struct {
	Type         string          `json:"__type"`
	Message      string          `json:"message"`
	Kind         string          `json:"kind,omitempty"`
	Name         string          `json:"name,omitempty"`
	Problems     []cloud.Problem `json:"problems,omitempty"`
	Since        uint64          `json:"since,omitempty"`
	Oldest       uint64          `json:"oldest,omitempty"`
	InstanceType string          `json:"instanceType,omitempty"`
	Zone         string          `json:"zone,omitempty"`
}

func writeError(w http.ResponseWriter, err error) {
	we := wireError{Type: "InternalError", Message: err.Error()}
	status := http.StatusInternalServerError
	var (
		invalid  *cloud.InvalidParameterError
		notFound *cloud.NotFoundError
		exists   *cloud.AlreadyExistsError
		inUse    *cloud.ResourceInUseError
		capacity *cloud.InsufficientCapacityError
		expired  *cloud.EventsExpiredError
	)
	switch {
	case errors.As(err, &invalid):
		we.Type, we.Problems, status = "InvalidParameter", invalid.Problems, http.StatusBadRequest
	case errors.As(err, &notFound):
		we.Type, we.Kind, we.Name, status = "NotFound", notFound.Kind, notFound.Name, http.StatusNotFound
	case errors.As(err, &exists):
		we.Type, we.Kind, we.Name, status = "AlreadyExists", exists.Kind, exists.Name, http.StatusConflict
	case errors.As(err, &inUse):
		we.Type, we.Kind, we.Name, we.Message, status = "ResourceInUse", inUse.Kind, inUse.Name, inUse.Message, http.StatusConflict
	case errors.As(err, &capacity):
		we.Type, we.InstanceType, we.Zone, status = "InsufficientInstanceCapacity", capacity.InstanceType, capacity.Zone, http.StatusServiceUnavailable
	case errors.As(err, &expired):
		we.Type, we.Since, we.Oldest, status = "EventsExpired", expired.Since, expired.Oldest, http.StatusGone
	case errors.Is(err, sim.ErrStopped):
		we.Type, status = "Stopped", http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(we)
}

// err turns a wire error back into the error it was.
func (we wireError) err() error {
	switch we.Type {
	case "InvalidParameter":
		return &cloud.InvalidParameterError{Problems: we.Problems}
	case "NotFound":
		return &cloud.NotFoundError{Kind: we.Kind, Name: we.Name}
	case "AlreadyExists":
		return &cloud.AlreadyExistsError{Kind: we.Kind, Name: we.Name}
	case "ResourceInUse":
		return &cloud.ResourceInUseError{Kind: we.Kind, Name: we.Name, Message: we.Message}
	case "InsufficientInstanceCapacity":
		return &cloud.InsufficientCapacityError{InstanceType: we.InstanceType, Zone: we.Zone}
	case "EventsExpired":
		return &cloud.EventsExpiredError{Since: we.Since, Oldest: we.Oldest}
	case "Stopped":
		return sim.ErrStopped
	}
	return errors.New(we.Message)
}
