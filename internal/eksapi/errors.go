package eksapi

import (
	"strings"

	"github.com/kdp-project/kdp/internal/eks"
	"github.com/kdp-project/kdp/internal/eks/types"
)

// Codes of errors the HTTP layer answers before any operation is known, or
// about the transport: not error shapes of the model, which is why an SDK
// decodes them as generic API errors (with the code and message).
const (
	// CodeUnknownOperation: no operation of the EKS API has the request's
	// method and path (404).
	CodeUnknownOperation = "UnknownOperationException"
	// CodeRequestEntityTooLarge: the body is over Options.MaxBodyBytes
	// (413). It comes before authentication: the signature covers the
	// body, which kdp does not read past the cap.
	CodeRequestEntityTooLarge = "RequestEntityTooLargeException"
)

// similar are the codes to try, in order, for a code the operation does not
// declare, before the generic ones of its status class.
var similar = map[string][]string{
	eks.CodeResourceNotFound: {eks.CodeNotFound},
	eks.CodeNotFound:         {eks.CodeResourceNotFound},
	eks.CodeInvalidParameter: {eks.CodeBadRequest, eks.CodeInvalidRequest},
	eks.CodeInvalidRequest:   {eks.CodeBadRequest, eks.CodeInvalidParameter},
	eks.CodeBadRequest:       {eks.CodeInvalidRequest, eks.CodeInvalidParameter},
	eks.CodeUnsupportedAZ:    {eks.CodeInvalidParameter},
	// "The request is invalid given the state of the cluster": a profile
	// deleting (CreateFargateProfile declares no ResourceInUseException,
	// though EKS answers one).
	eks.CodeResourceInUse: {eks.CodeInvalidRequest},
}

// client4xx are the generic client errors, most generic first.
var client4xx = []string{eks.CodeClient, eks.CodeBadRequest, eks.CodeInvalidRequest, eks.CodeInvalidParameter}

// conform is code as op may answer it: code itself if op declares it, else
// the first declared of its equivalents (ResourceNotFoundException and
// NotFoundException; InvalidParameterException, InvalidRequestException
// and BadRequestException), else of the generic codes of its class
// (ClientException first for a 4xx, ServerException for a 5xx). A code
// that is no error shape of the model is a fault of kdp's:
// ServerException. A fault stays a ServerException (500) even on an
// operation that declares none (the tag operations): calling a fault the
// client's would be worse than answering a code the model leaves out. A
// client error always finds a declared code on a served operation that
// declares one of client4xx (all but ListAccessPolicies, which declares
// none: its client errors keep their codes); TestConformServedOps proves
// it.
func conform(op *types.Operation, code string) string {
	status, known := types.ErrorStatus[code]
	if !known {
		return eks.CodeServer
	}
	if op == nil || op.Declares(code) {
		return code
	}
	for _, c := range similar[code] {
		if op.Declares(c) {
			return c
		}
	}
	if status >= 500 {
		return eks.CodeServer
	}
	for _, c := range client4xx {
		if op.Declares(c) {
			return c
		}
	}
	return code
}

// unsupportedCode is the code of an operation kdp does not serve: the
// first it declares of InvalidRequestException, ClientException,
// BadRequestException and InvalidParameterException (InvalidRequestException
// if it declares none).
func unsupportedCode(op *types.Operation) string {
	for _, c := range []string{eks.CodeInvalidRequest, eks.CodeClient, eks.CodeBadRequest, eks.CodeInvalidParameter} {
		if op.Declares(c) {
			return c
		}
	}
	return eks.CodeInvalidRequest
}

// servedList is the served operations, for the message of the others.
func servedList() string {
	var names []string
	for _, op := range types.Operations {
		if op.Served {
			names = append(names, op.Name)
		}
	}
	return strings.Join(names, ", ")
}

// errorMembers says, per error shape, which context members its body has.
var errorMembers = func() map[string]map[string]bool {
	m := map[string]map[string]bool{}
	for code, members := range types.ErrorMembers {
		m[code] = map[string]bool{}
		for _, mem := range members {
			m[code][mem] = true
		}
	}
	return m
}()

// errorBody is the JSON body of an error: __type, message, and the context
// members e has that the shape of code declares.
func errorBody(code string, e *eks.Error) map[string]any {
	body := map[string]any{"__type": code, "message": e.Message}
	has := errorMembers[code]
	set := func(name, v string) {
		if v != "" && has[name] {
			body[name] = v
		}
	}
	set("clusterName", e.ClusterName)
	set("nodegroupName", e.NodegroupName)
	set("fargateProfileName", e.FargateProfileName)
	if len(e.ValidZones) > 0 && has["validZones"] {
		body["validZones"] = e.ValidZones
	}
	// kdp's own members, which the SDKs and the aws CLI ignore: the members
	// the error is about and each problem's, so that the kdp CLI names the
	// flag of each, as it does for what it asks the library in process.
	if len(e.Fields) > 0 {
		body[fieldsMember] = e.Fields
	}
	if len(e.Problems) > 0 {
		body[problemsMember] = e.Problems
	}
	return body
}

// fieldsMember and problemsMember are the members of an error's body that
// carry its eks.Error's Fields and Problems.
const (
	fieldsMember   = "kdpFields"
	problemsMember = "kdpProblems"
)
