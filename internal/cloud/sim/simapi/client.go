package simapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim"
	"github.com/kdp-project/kdp/internal/cloud/sim/scenario"
)

// ErrNotRunning says no simulated cloud listens on the socket.
var ErrNotRunning = errors.New("the simulated cloud is not running")

// Client is a simulated cloud reached over its socket: a cloud.Provider and
// the simulator's faults, for the cluster the serving kdp runs.
type Client struct {
	socket string
	http   *http.Client
}

var (
	_ cloud.Provider = (*Client)(nil)
	_ sim.Faults     = (*Client)(nil)
)

// Dial returns a client of the cloud serving on the socket at path, once
// it has answered.
func Dial(ctx context.Context, path string) (*Client, *Info, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, nil, fmt.Errorf("%w (no %s)", ErrNotRunning, path)
	}
	c := &Client{socket: path, http: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		},
	}}}
	info := &Info{}
	if err := c.call(ctx, "Info", nil, info); err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			return nil, nil, fmt.Errorf("%w (nothing answers on %s)", ErrNotRunning, path)
		}
		return nil, nil, err
	}
	return c, info, nil
}

// call posts in to an operation and decodes its output into out.
func (c *Client) call(ctx context.Context, op string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://cloud/v1/"+op, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return decodeError(resp)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func decodeError(resp *http.Response) error {
	var we wireError
	if err := json.NewDecoder(resp.Body).Decode(&we); err != nil {
		return fmt.Errorf("the simulated cloud answered %s", resp.Status)
	}
	return we.err()
}

// get calls an operation that returns a value.
func get[T any](ctx context.Context, c *Client, op string, in any) (T, error) {
	var out T
	err := c.call(ctx, op, in, &out)
	return out, err
}

// getPtr calls an operation that returns an object.
func getPtr[T any](ctx context.Context, c *Client, op string, in any) (*T, error) {
	out := new(T)
	if err := c.call(ctx, op, in, out); err != nil {
		return nil, err
	}
	return out, nil
}

// list calls an operation that returns a page.
func list[T any](ctx context.Context, c *Client, op string, in any) ([]T, string, error) {
	var out page[T]
	err := c.call(ctx, op, in, &out)
	return out.Items, out.NextToken, err
}

func (c *Client) Account(ctx context.Context) (cloud.Account, error) {
	return get[cloud.Account](ctx, c, "Account", nil)
}

func (c *Client) InstanceTypes(ctx context.Context) ([]cloud.InstanceType, error) {
	return get[[]cloud.InstanceType](ctx, c, "InstanceTypes", nil)
}

func (c *Client) Images(ctx context.Context) ([]cloud.Image, error) {
	return get[[]cloud.Image](ctx, c, "Images", nil)
}

func (c *Client) Subnets(ctx context.Context) ([]cloud.Subnet, error) {
	return get[[]cloud.Subnet](ctx, c, "Subnets", nil)
}

func (c *Client) CreateLaunchTemplate(ctx context.Context, in cloud.LaunchTemplateInput) (*cloud.LaunchTemplate, error) {
	return getPtr[cloud.LaunchTemplate](ctx, c, "CreateLaunchTemplate", in)
}

func (c *Client) GetLaunchTemplate(ctx context.Context, ref cloud.TemplateRef) (*cloud.LaunchTemplate, error) {
	return getPtr[cloud.LaunchTemplate](ctx, c, "GetLaunchTemplate", ref)
}

func (c *Client) ListLaunchTemplates(ctx context.Context, p cloud.Page) ([]cloud.LaunchTemplate, string, error) {
	return list[cloud.LaunchTemplate](ctx, c, "ListLaunchTemplates", p)
}

func (c *Client) CreateLaunchTemplateVersion(ctx context.Context, ref cloud.TemplateRef, in cloud.LaunchTemplateVersionInput) (*cloud.LaunchTemplateVersion, error) {
	return getPtr[cloud.LaunchTemplateVersion](ctx, c, "CreateLaunchTemplateVersion", versionInput{Template: ref, LaunchTemplateVersionInput: in})
}

func (c *Client) DeleteLaunchTemplate(ctx context.Context, ref cloud.TemplateRef) error {
	return c.call(ctx, "DeleteLaunchTemplate", ref, nil)
}

func (c *Client) CreateGroup(ctx context.Context, in cloud.GroupInput) (*cloud.Group, error) {
	return getPtr[cloud.Group](ctx, c, "CreateGroup", in)
}

func (c *Client) GetGroup(ctx context.Context, name string) (*cloud.Group, error) {
	return getPtr[cloud.Group](ctx, c, "GetGroup", nameInput{Name: name})
}

func (c *Client) ListGroups(ctx context.Context, p cloud.Page) ([]cloud.Group, string, error) {
	return list[cloud.Group](ctx, c, "ListGroups", p)
}

func (c *Client) UpdateGroup(ctx context.Context, name string, in cloud.GroupUpdate) (*cloud.Group, error) {
	return getPtr[cloud.Group](ctx, c, "UpdateGroup", updateGroupInput{Name: name, GroupUpdate: in})
}

func (c *Client) DeleteGroup(ctx context.Context, name string) error {
	return c.call(ctx, "DeleteGroup", nameInput{Name: name}, nil)
}

func (c *Client) PutLifecycleHook(ctx context.Context, group string, hook cloud.LifecycleHook) error {
	return c.call(ctx, "PutLifecycleHook", hookInput{Group: group, LifecycleHook: hook}, nil)
}

func (c *Client) DeleteLifecycleHook(ctx context.Context, group, hook string) error {
	return c.call(ctx, "DeleteLifecycleHook", hookInput{Group: group, LifecycleHook: cloud.LifecycleHook{Name: hook}}, nil)
}

func (c *Client) SuspendProcesses(ctx context.Context, group string, processes []string) error {
	return c.call(ctx, "SuspendProcesses", processesInput{Group: group, Processes: processes}, nil)
}

func (c *Client) ResumeProcesses(ctx context.Context, group string, processes []string) error {
	return c.call(ctx, "ResumeProcesses", processesInput{Group: group, Processes: processes}, nil)
}

func (c *Client) ListActivities(ctx context.Context, group string, p cloud.Page) ([]cloud.Activity, string, error) {
	return list[cloud.Activity](ctx, c, "ListActivities", pageInput{Name: group, Page: p})
}

func (c *Client) RunInstances(ctx context.Context, in cloud.RunInput) ([]cloud.Instance, error) {
	return get[[]cloud.Instance](ctx, c, "RunInstances", in)
}

func (c *Client) GetInstance(ctx context.Context, id string) (*cloud.Instance, error) {
	return getPtr[cloud.Instance](ctx, c, "GetInstance", idInput{ID: id})
}

func (c *Client) ListInstances(ctx context.Context, f cloud.InstanceFilter, p cloud.Page) ([]cloud.Instance, string, error) {
	return list[cloud.Instance](ctx, c, "ListInstances", listInstancesInput{InstanceFilter: f, Page: p})
}

func (c *Client) GetUserData(ctx context.Context, id string) (string, error) {
	return get[string](ctx, c, "GetUserData", idInput{ID: id})
}

func (c *Client) TerminateInstance(ctx context.Context, id string, decrementDesired bool) error {
	return c.call(ctx, "TerminateInstance", terminateInput{ID: id, Decrease: decrementDesired}, nil)
}

func (c *Client) CompleteLifecycleAction(ctx context.Context, in cloud.LifecycleAction) error {
	return c.call(ctx, "CompleteLifecycleAction", in, nil)
}

func (c *Client) RecordLifecycleActionHeartbeat(ctx context.Context, in cloud.LifecycleAction) error {
	return c.call(ctx, "RecordLifecycleActionHeartbeat", in, nil)
}

func (c *Client) Launched(ctx context.Context, id string) (*cloud.Launch, error) {
	return getPtr[cloud.Launch](ctx, c, "Launched", idInput{ID: id})
}

// Subscribe streams the cloud's events. The channel closes when ctx ends,
// when the cloud stops, or when the subscription falls behind what the
// cloud keeps; subscribing again from the last Sequence seen resumes.
func (c *Client) Subscribe(ctx context.Context, since uint64) (<-chan cloud.Event, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://cloud/v1/Subscribe?since="+strconv.FormatUint(since, 10), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, decodeError(resp)
	}
	out := make(chan cloud.Event)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64*1024), 4<<20)
		for sc.Scan() {
			var s streamed
			if json.Unmarshal(sc.Bytes(), &s) != nil {
				return
			}
			s.Event.Sequence = s.Sequence
			select {
			case out <- s.Event:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

func (c *Client) Interrupt(ctx context.Context, id string) error {
	return c.call(ctx, "Interrupt", idInput{ID: id}, nil)
}

func (c *Client) Rebalance(ctx context.Context, id string) error {
	return c.call(ctx, "Rebalance", idInput{ID: id}, nil)
}

func (c *Client) ScheduleRetirement(ctx context.Context, id string, in time.Duration) error {
	return c.call(ctx, "ScheduleRetirement", retirementInput{ID: id, In: cloud.Duration{Duration: in}}, nil)
}

func (c *Client) FailKubelet(ctx context.Context, id string) error {
	return c.call(ctx, "FailKubelet", idInput{ID: id}, nil)
}

func (c *Client) FailCondition(ctx context.Context, id, condition, reason string) error {
	return c.call(ctx, "FailCondition", conditionInput{ID: id, Condition: condition, Reason: reason}, nil)
}

func (c *Client) SetCapacity(ctx context.Context, instanceType, zone string, n int) error {
	return c.call(ctx, "SetCapacity", capacityInput{InstanceType: instanceType, Zone: zone, Available: n}, nil)
}

func (c *Client) Capacity(ctx context.Context) ([]sim.CapacityLimit, error) {
	return get[[]sim.CapacityLimit](ctx, c, "Capacity", nil)
}

func (c *Client) ZoneOutage(ctx context.Context, zone string) (int, error) {
	out, err := get[zoneOutageOutput](ctx, c, "ZoneOutage", zoneInput{Zone: zone})
	return out.KubeletsFailed, err
}

func (c *Client) SetSlowBoot(ctx context.Context, group string, delay, duration time.Duration) error {
	return c.call(ctx, "SetSlowBoot", slowBootInput{Group: group, Delay: cloud.Duration{Duration: delay}, Duration: cloud.Duration{Duration: duration}}, nil)
}

func (c *Client) SetLaunchFailure(ctx context.Context, group string, in sim.LaunchFailure) error {
	return c.call(ctx, "SetLaunchFailure", launchFailureInput{Group: group, InstanceType: in.InstanceType, Zone: in.Zone, Rate: in.Rate,
		Duration: cloud.Duration{Duration: in.Duration}, Seed: in.Seed}, nil)
}

func (c *Client) StartScenario(ctx context.Context, sc *scenario.Scenario) (*sim.ScenarioStatus, error) {
	return getPtr[sim.ScenarioStatus](ctx, c, "StartScenario", sc)
}

func (c *Client) ScenarioStatus(ctx context.Context, id string) (*sim.ScenarioStatus, error) {
	return getPtr[sim.ScenarioStatus](ctx, c, "ScenarioStatus", nameInput{Name: id})
}

func (c *Client) StopScenario(ctx context.Context, id string) (*sim.ScenarioStatus, error) {
	return getPtr[sim.ScenarioStatus](ctx, c, "StopScenario", nameInput{Name: id})
}
