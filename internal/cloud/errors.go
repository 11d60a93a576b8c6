package cloud

import (
	"errors"
	"fmt"
	"strings"
)

// NotFoundError says a resource does not exist.
type NotFoundError struct {
	Kind, Name string
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s %q not found", e.Kind, e.Name) }

// AlreadyExistsError says a name is taken.
type AlreadyExistsError struct {
	Kind, Name string
}

func (e *AlreadyExistsError) Error() string {
	return fmt.Sprintf("%s %q already exists", e.Kind, e.Name)
}

// ResourceInUseError says a resource cannot go (or change) while something
// uses it: a launch template a group launches from.
type ResourceInUseError struct {
	Kind, Name, Message string
}

func (e *ResourceInUseError) Error() string {
	return fmt.Sprintf("%s %q is in use: %s", e.Kind, e.Name, e.Message)
}

// Problem is one broken rule of a request: Field names the parameter as the
// API calls it (minSize, lifecycleHooks[0].heartbeatTimeout), Message says
// the rule and what was given.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// InvalidParameterError says a request broke rules, listing every one; a
// request that fails with it changed nothing.
type InvalidParameterError struct {
	Problems []Problem `json:"problems"`
}

func (e *InvalidParameterError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Message
	}
	return strings.Join(parts, "; ")
}

// Invalid is an InvalidParameterError with one problem.
func Invalid(field, format string, args ...any) error {
	return &InvalidParameterError{Problems: []Problem{{Field: field, Message: fmt.Sprintf(format, args...)}}}
}

// Problems collects the problems of a request, so that all of them are
// reported at once.
type Problems []Problem

// Add records a problem.
func (ps *Problems) Add(field, format string, args ...any) {
	*ps = append(*ps, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err is an InvalidParameterError of the problems, or nil if there are none.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return &InvalidParameterError{Problems: ps}
}

// InsufficientCapacityError says no instance of a type could be had in a
// zone (EC2's InsufficientInstanceCapacity).
type InsufficientCapacityError struct {
	InstanceType, Zone string
}

func (e *InsufficientCapacityError) Error() string {
	return fmt.Sprintf("InsufficientInstanceCapacity: We currently do not have sufficient %s capacity in the Availability Zone you requested (%s).", e.InstanceType, e.Zone)
}

// EventsExpiredError says a Subscribe cursor is older than the events a
// provider keeps (Oldest is the oldest it has): the consumer missed events
// and must resynchronise from the current state (list what it watches),
// then subscribe from now.
type EventsExpiredError struct {
	Since, Oldest uint64
}

func (e *EventsExpiredError) Error() string {
	return fmt.Sprintf("events after %d are no longer kept (the oldest kept is %d): some were missed; resynchronise from the current state, then subscribe from now", e.Since, e.Oldest)
}

// IsNotFound reports whether err is (or wraps) a NotFoundError.
func IsNotFound(err error) bool {
	var e *NotFoundError
	return errors.As(err, &e)
}

// IsAlreadyExists reports whether err is (or wraps) an AlreadyExistsError.
func IsAlreadyExists(err error) bool {
	var e *AlreadyExistsError
	return errors.As(err, &e)
}

// IsInvalid reports whether err is (or wraps) an InvalidParameterError.
func IsInvalid(err error) bool {
	var e *InvalidParameterError
	return errors.As(err, &e)
}

// IsInsufficientCapacity reports whether err is (or wraps) an
// InsufficientCapacityError.
func IsInsufficientCapacity(err error) bool {
	var e *InsufficientCapacityError
	return errors.As(err, &e)
}

// IsInUse reports whether err is (or wraps) a ResourceInUseError.
func IsInUse(err error) bool {
	var e *ResourceInUseError
	return errors.As(err, &e)
}

// IsEventsExpired reports whether err is (or wraps) an EventsExpiredError.
func IsEventsExpired(err error) bool {
	var e *EventsExpiredError
	return errors.As(err, &e)
}
