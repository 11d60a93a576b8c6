package eks

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The EKS API's error codes (its error shapes) that the service answers with.
const (
	CodeInvalidParameter      = "InvalidParameterException"
	CodeInvalidRequest        = "InvalidRequestException"
	CodeResourceInUse         = "ResourceInUseException"
	CodeResourceNotFound      = "ResourceNotFoundException"
	CodeResourceLimitExceeded = "ResourceLimitExceededException"
	CodeServer                = "ServerException"
	CodeBadRequest            = "BadRequestException"
	CodeNotFound              = "NotFoundException"
	CodeClient                = "ClientException"
	CodeUnsupportedAZ         = "UnsupportedAvailabilityZoneException"
	CodeServiceUnavailable    = "ServiceUnavailableException"
)

// Error is an EKS error: its code (an error shape of the API), a message,
// the context members EKS puts in its error bodies, and the request's
// members it is about, spelled as the EKS API spells them
// (scalingConfig.minSize).
type Error struct {
	Code    string
	Message string

	ClusterName        string
	NodegroupName      string
	FargateProfileName string
	// ValidZones are UnsupportedAvailabilityZoneException's zones.
	ValidZones []string

	// Fields are the request's members the error is about.
	Fields []string
	// Problems are an InvalidParameterException's problems one by one,
	// each with its member (as in Fields; "" for none): Message is their
	// sum.
	Problems []Problem
	// Err is the fault behind a ServerException, for logs; it is never
	// sent.
	Err error
}

// Problem is one problem of a request: the member it is about, as the
// EKS API spells it, and what is wrong with it.
type Problem struct {
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func (e *Error) Unwrap() error { return e.Err }

// AsError returns err's *Error, if it has one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// invalidParameter is an InvalidParameterException about one member.
func invalidParameter(member, format string, args ...any) *Error {
	e := errorf(CodeInvalidParameter, format, args...)
	if member != "" {
		e.Fields = []string{member}
	}
	return e
}

// serverError is a fault of kdp's (or of the API server behind it).
func serverError(err error, doing string) *Error {
	return &Error{Code: CodeServer, Message: "kdp could not complete the request: " + doing + " failed; see kdp's log", Err: fmt.Errorf("%s: %w", doing, err)}
}

// fromKubernetes translates an error of the Kubernetes API into EKS's
// terms: a validation error is an InvalidParameterException naming the
// members as the EKS API spells them (spec. dropped), with
// ResourceLimitExceeded and ResourceInUse (which kdp's validation marks in
// its messages) as their own codes; an object that exists is in use; one
// that does not is not found. The rest is a fault. ctx fills in the
// context members.
func fromKubernetes(err error, ctx Error, doing string) *Error {
	if err == nil {
		return nil
	}
	if e, ok := AsError(err); ok {
		return e
	}
	out := ctx
	status, isStatus := err.(apierrors.APIStatus)
	switch {
	case apierrors.IsInvalid(err) && isStatus:
		out.Code = CodeInvalidParameter
		var msgs []string
		name := nameMember(ctx)
		for _, c := range causes(status.Status()) {
			f, msg := EKSField(c.Field, name), c.Message
			if c.Field == "<nil>" {
				// A CEL rule of the whole object names its field in the
				// message: "Invalid value: metadata.name: ...".
				msg = strings.TrimPrefix(msg, "Invalid value: ")
				if rest, ok := strings.CutPrefix(msg, "metadata.name: "); ok {
					f, msg = name, rest
				}
			}
			if f != "" && !contains(out.Fields, f) {
				out.Fields = append(out.Fields, f)
			}
			switch {
			case strings.Contains(msg, "ResourceLimitExceeded"):
				out.Code = CodeResourceLimitExceeded
			case strings.Contains(msg, "ResourceInUse:"):
				out.Code = CodeResourceInUse
				msg = strings.TrimSpace(strings.Replace(msg, "ResourceInUse:", "", 1))
			}
			out.Problems = append(out.Problems, Problem{Field: f, Message: msg})
			if f != "" {
				msg = f + ": " + msg
			}
			msgs = append(msgs, msg)
		}
		if len(msgs) == 0 {
			msgs = append(msgs, status.Status().Message)
		}
		out.Message = strings.Join(msgs, "; ")
	case apierrors.IsConflict(err) && isStatus && strings.Contains(status.Status().Message, "ResourceInUse:"):
		out.Code = CodeResourceInUse
		msg := status.Status().Message
		out.Message = strings.TrimSpace(msg[strings.Index(msg, "ResourceInUse:")+len("ResourceInUse:"):])
	case apierrors.IsAlreadyExists(err):
		out.Code, out.Message = CodeResourceInUse, "the resource already exists"
	case apierrors.IsNotFound(err):
		out.Code, out.Message = CodeResourceNotFound, "the resource was not found"
	default:
		return serverError(err, doing)
	}
	return &out
}

func causes(s metav1.Status) []metav1.StatusCause {
	if s.Details == nil {
		return nil
	}
	return s.Details.Causes
}

// EKSField spells a NodeGroup's or FargateProfile's field path as the EKS
// API does: spec.scalingConfig.minSize is scalingConfig.minSize,
// spec.selectors[0].namespace is selectors[0].namespace, and
// metadata.name is the request's name member (name: nodegroupName or
// fargateProfileName). A rule of the whole object ("<nil>") names none.
func EKSField(path, name string) string {
	switch {
	case path == "<nil>", path == "spec":
		return ""
	case strings.HasPrefix(path, "spec."):
		return strings.TrimPrefix(path, "spec.")
	case path == "metadata.name":
		return name
	}
	return path
}

// nameMember is the request member that is the resource's name, by the
// context of the error: nodegroupName, fargateProfileName, or name.
func nameMember(ctx Error) string {
	switch {
	case ctx.NodegroupName != "":
		return "nodegroupName"
	case ctx.FargateProfileName != "":
		return "fargateProfileName"
	}
	return "name"
}

func contains(s []string, v string) bool { return slices.Contains(s, v) }

// IsNotFound reports whether err is a ResourceNotFoundException.
func IsNotFound(err error) bool {
	e, ok := AsError(err)
	return ok && e.Code == CodeResourceNotFound
}
