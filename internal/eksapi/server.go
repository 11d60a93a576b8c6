// Package eksapi serves kdp's EKS API over HTTP, as EKS does (restJson1,
// SigV4), so that the AWS CLI, the AWS SDKs and tools built on them work
// against kdp unchanged. It only decodes, authenticates, calls the
// Service (internal/eks: types.API) and encodes; what an operation does is
// the Service's.
//
// Every response carries x-amzn-RequestId and a JSON body. A request is
// routed by method and path over every operation of EKS's model, then its
// body is read (up to Options.MaxBodyBytes: over it, 413
// RequestEntityTooLargeException) and its signature verified (403 with
// the error types AWS clients know). An unknown method and path answers
// 404 UnknownOperationException; an operation kdp does not serve, an
// error naming it and those it serves. The input is decoded and checked
// against the model's constraints (every violation at once, in AWS's
// words), the Service called and its output encoded. Errors are conformed
// to those the operation declares (see conform); a fault (any error that
// is not an *eks.Error, and panics) is a 500 ServerException whose message
// gives the request id and nothing else, the error going to the log.
package eksapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/uuid"
	"k8s.io/klog/v2"

	"github.com/kdp-project/kdp/internal/eks"
	"github.com/kdp-project/kdp/internal/eks/types"
	"github.com/kdp-project/kdp/internal/eksapi/auth"
)

// Verifier authenticates a request whose body the server has read;
// *auth.Verifier is one. It returns the credential that signed the
// request, or an *auth.Error (403) saying why it is refused; any other
// error is a fault.
type Verifier interface {
	Verify(r *http.Request, body []byte) (auth.Credential, error)
}

// DefaultMaxBodyBytes bounds a request's body unless Options say
// otherwise: EKS's largest inputs (a node group with 50 tags, labels and
// taints) are a few kilobytes.
const DefaultMaxBodyBytes = 1 << 20

// Options configure a Server.
type Options struct {
	// API serves the operations (an *eks.Service). Required.
	API types.API
	// Verifier authenticates requests. When nil, one is made of Keys and
	// Region (an *auth.Verifier). One of Verifier and Keys is required.
	Verifier Verifier
	Keys     auth.Keys
	// Region is the region requests are signed for (with Keys).
	Region string
	// MaxBodyBytes bounds a request's body; DefaultMaxBodyBytes if 0.
	MaxBodyBytes int64
	// Audit gets one JSON line per mutating request and per failed
	// authentication (see AuditRecord); none when nil. Writes are
	// serialised.
	Audit io.Writer
	// Log is where the server logs: each request at V(2), faults with
	// their stack. klog's when unset.
	Log logr.Logger
}

// Server is the EKS API's HTTP handler.
type Server struct {
	api      types.API
	verifier Verifier
	maxBody  int64
	routes   routes
	codecs   map[string]*codec
	served   string
	log      logr.Logger

	auditMu sync.Mutex
	audit   io.Writer
}

var _ http.Handler = (*Server)(nil)

// New returns a Server. It panics without an API or a way to authenticate,
// or if the model's operations cannot be decoded (a bug, which the tests
// catch).
func New(o Options) *Server {
	if o.API == nil {
		panic("eksapi: Options.API is required")
	}
	if o.Verifier == nil {
		if o.Keys == nil {
			panic("eksapi: Options.Verifier or Options.Keys is required")
		}
		o.Verifier = &auth.Verifier{Store: o.Keys, Region: o.Region}
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Log.GetSink() == nil {
		o.Log = klog.Background().WithName("eks-api")
	}
	s := &Server{
		api: o.API, verifier: o.Verifier, maxBody: o.MaxBodyBytes, log: o.Log, audit: o.Audit,
		routes: newRoutes(types.Operations), codecs: map[string]*codec{}, served: servedList(),
	}
	for i := range types.Operations {
		op := &types.Operations[i]
		if !op.Served {
			continue
		}
		b, ok := types.Bindings[op.Name]
		if !ok {
			panic("eksapi: no binding for served operation " + op.Name)
		}
		c, err := newCodec(op, b)
		if err != nil {
			panic("eksapi: " + err.Error())
		}
		s.codecs[op.Name] = c
	}
	return s
}

// exchange is what the server learns of one request, for its response,
// log line, metrics and audit record.
type exchange struct {
	id          string
	start       time.Time
	op          *types.Operation
	principal   string
	accessKeyID string
	resource    string
	status      int
	code        string
	authFailed  bool
	wrote       bool
}

var jsonContentType = []string{"application/json"}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := &exchange{id: uuid.NewString(), start: time.Now()}
	h := w.Header()
	// Canonical header keys (X-Amzn-Requestid): header names are
	// case-insensitive, and Go's own code (Header.Get) expects them so.
	h.Set("x-amzn-RequestId", x.id)
	h["Content-Type"] = jsonContentType
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error(fmt.Errorf("panic: %v", p), "EKS API request failed", "requestId", x.id, "operation", opName(x.op), "stack", string(debug.Stack()))
			if !x.wrote {
				s.fault(w, x)
			}
		}
		s.record(r, x)
	}()
	s.serve(w, r, x)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, x *exchange) {
	op, labels := s.routes.match(r.Method, r.URL.EscapedPath())
	x.op = op
	if op != nil {
		x.resource = resourceOf(labels["name"], labels["nodegroupName"], labels["fargateProfileName"], labels["resourceArn"])
	}

	if r.ContentLength > s.maxBody {
		s.tooLarge(w, x)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			s.tooLarge(w, x)
			return
		}
		s.writeError(w, x, conform(op, eks.CodeBadRequest), &eks.Error{Message: "could not read the request body: " + clip(err.Error())})
		return
	}

	cred, err := s.verifier.Verify(r, body)
	if err != nil {
		var ae *auth.Error
		if !errors.As(err, &ae) {
			s.log.Error(err, "authenticating an EKS API request failed", "requestId", x.id)
			s.fault(w, x)
			return
		}
		x.authFailed, x.accessKeyID = true, claimedKeyID(r)
		s.writeErrorStatus(w, x, http.StatusForbidden, ae.Code, map[string]any{"__type": ae.Code, "message": ae.Message})
		return
	}
	x.principal, x.accessKeyID = cred.ARN, cred.AccessKeyID

	if op == nil {
		s.writeErrorStatus(w, x, http.StatusNotFound, CodeUnknownOperation, map[string]any{
			"__type":  CodeUnknownOperation,
			"message": fmt.Sprintf("The EKS API has no operation %s %s", r.Method, clip(r.URL.EscapedPath())),
		})
		return
	}
	if !op.Served {
		s.writeError(w, x, unsupportedCode(op), &eks.Error{Message: op.Name + " is not supported by kdp; it serves: " + s.served})
		return
	}

	c := s.codecs[op.Name]
	in, derr := c.decode(labels, r.URL.RawQuery, body)
	x.resource = c.resource(in)
	if derr != nil {
		c.context(in, derr)
		s.writeError(w, x, conform(op, derr.Code), derr)
		return
	}
	out, err := c.binding.Call(eks.WithPrincipal(r.Context(), cred.ARN), s.api, in)
	if err != nil {
		e, ok := eks.AsError(err)
		if !ok {
			s.log.Error(err, "EKS API operation failed", "requestId", x.id, "operation", op.Name)
			s.fault(w, x)
			return
		}
		code := conform(op, e.Code)
		if code == eks.CodeServer {
			s.log.Error(e, "EKS API operation failed", "requestId", x.id, "operation", op.Name, "code", e.Code)
			if e.Code != eks.CodeServer {
				// A code that is no error shape: a bug, and its message
				// may say anything.
				s.fault(w, x)
				return
			}
			withID := *e
			withID.Message += " (request id " + x.id + ")"
			e = &withID
		}
		s.writeError(w, x, code, e)
		return
	}
	s.writeOutput(w, x, out)
}

// writeOutput encodes a successful output: {} for none.
func (s *Server) writeOutput(w http.ResponseWriter, x *exchange, out any) {
	var buf bytes.Buffer
	if v := reflect.ValueOf(out); !v.IsValid() || (v.Kind() == reflect.Pointer && v.IsNil()) {
		buf.WriteString("{}")
	} else {
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(out); err != nil {
			s.log.Error(err, "encoding an EKS API output failed", "requestId", x.id, "operation", opName(x.op))
			s.fault(w, x)
			return
		}
	}
	x.status = http.StatusOK
	s.write(w, x, buf.Bytes())
}

// writeError answers the error e with code (conformed to the operation):
// its status, X-Amzn-ErrorType and body.
func (s *Server) writeError(w http.ResponseWriter, x *exchange, code string, e *eks.Error) {
	status, ok := types.ErrorStatus[code]
	if !ok {
		status = http.StatusBadRequest
	}
	s.writeErrorStatus(w, x, status, code, errorBody(code, e))
}

func (s *Server) writeErrorStatus(w http.ResponseWriter, x *exchange, status int, code string, body map[string]any) {
	b, err := json.Marshal(body)
	if err != nil { // strings and string lists only: cannot happen
		b = []byte(`{"__type":"` + eks.CodeServer + `"}`)
	}
	x.status, x.code = status, code
	w.Header().Set("X-Amzn-ErrorType", code)
	s.write(w, x, b)
}

// fault answers a ServerException that says nothing but the request id.
func (s *Server) fault(w http.ResponseWriter, x *exchange) {
	s.writeErrorStatus(w, x, http.StatusInternalServerError, eks.CodeServer, map[string]any{
		"__type":  eks.CodeServer,
		"message": "kdp could not complete the request because of an internal error; its log has the details under request id " + x.id,
	})
}

func (s *Server) tooLarge(w http.ResponseWriter, x *exchange) {
	s.writeErrorStatus(w, x, http.StatusRequestEntityTooLarge, CodeRequestEntityTooLarge, map[string]any{
		"__type":  CodeRequestEntityTooLarge,
		"message": fmt.Sprintf("The request body is larger than kdp's limit of %d bytes", s.maxBody),
	})
}

func (s *Server) write(w http.ResponseWriter, x *exchange, b []byte) {
	x.wrote = true
	w.WriteHeader(x.status)
	_, _ = w.Write(b)
}

func opName(op *types.Operation) string {
	if op == nil {
		return "Unknown"
	}
	return op.Name
}

// mutating says whether an operation changes something: its requests are
// audited.
func mutating(op *types.Operation) bool {
	if op == nil {
		return false
	}
	n := op.Name
	return strings.HasPrefix(n, "Create") || strings.HasPrefix(n, "Update") || strings.HasPrefix(n, "Delete") ||
		n == "TagResource" || n == "UntagResource"
}

// claimedKeyID is the access key id a request that failed authentication
// says it was signed with (clipped: it is the client's word), for the
// audit log.
func claimedKeyID(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if authz := r.Header.Get("Authorization"); authz != "" {
		if _, after, ok := strings.Cut(authz, "Credential="); ok {
			cred = after
		}
	}
	id, _, _ := strings.Cut(cred, "/")
	id, _, _ = strings.Cut(id, ",")
	return clip(strings.TrimSpace(id))
}

// sourceIP is the client's address (the peer's; kdp trusts no forwarding
// header).
func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
