package cloud

import (
	"errors"
	"fmt"
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

// InvalidParameterError says a request broke a rule; Field names the
// parameter, as the API (and the CLI flag) calls it.
type InvalidParameterError struct {
	Field, Message string
}

func (e *InvalidParameterError) Error() string { return e.Field + ": " + e.Message }

// InsufficientCapacityError says no instance of a type could be had in a
// zone (EC2's InsufficientInstanceCapacity).
type InsufficientCapacityError struct {
	InstanceType, Zone string
}

func (e *InsufficientCapacityError) Error() string {
	return fmt.Sprintf("InsufficientInstanceCapacity: no %s capacity in %s", e.InstanceType, e.Zone)
}

// Invalid is a shorthand for an InvalidParameterError.
func Invalid(field, format string, args ...any) error {
	return &InvalidParameterError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// IsNotFound reports whether err is (or wraps) a NotFoundError.
func IsNotFound(err error) bool {
	var e *NotFoundError
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
