package eksapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// AuditRecord is one line of the audit log: a mutating request (Create*,
// Update*, Delete*, TagResource, UntagResource), whatever its outcome, or
// a request that failed authentication. It says who (the principal's ARN
// and access key; for a failed authentication, the key the request
// claimed), did what to which resource, and how it ended.
type AuditRecord struct {
	// Time is when the request came in (RFC 3339, UTC).
	Time      string `json:"time"`
	RequestID string `json:"requestId"`
	Principal string `json:"principal,omitempty"`
	// AccessKeyID is the key that signed the request, or the one a
	// request that failed authentication claimed.
	AccessKeyID string `json:"accessKeyId,omitempty"`
	// Operation is the EKS operation, "Unknown" for no operation of the
	// model.
	Operation string `json:"operation"`
	// Resource is the ARN of a tag operation, else cluster/NAME,
	// nodegroup/CLUSTER/NAME or fargateprofile/CLUSTER/NAME.
	Resource string `json:"resource,omitempty"`
	// Status is the HTTP status of the response, and ErrorCode its
	// X-Amzn-ErrorType.
	Status    int    `json:"status"`
	ErrorCode string `json:"errorCode,omitempty"`
	// Duration is how long the request took, e.g. "1.234ms".
	Duration  string `json:"duration"`
	SourceIP  string `json:"sourceIP"`
	UserAgent string `json:"userAgent,omitempty"`
}

var (
	requestsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kdp_eks_api_requests_total",
		Help: "Requests of kdp's EKS API, by operation (Unknown for none) and HTTP status code.",
	}, []string{"operation", "code"})
	requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kdp_eks_api_request_duration_seconds",
		Help:    "How long kdp's EKS API takes to answer, by operation.",
		Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
	}, []string{"operation"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(requestsTotal, requestDuration)
}

// record logs, counts and audits a finished request.
func (s *Server) record(r *http.Request, x *exchange) {
	took := time.Since(x.start)
	op := opName(x.op)
	requestsTotal.WithLabelValues(op, strconv.Itoa(x.status)).Inc()
	requestDuration.WithLabelValues(op).Observe(took.Seconds())
	if log := s.log.V(2); log.Enabled() {
		log.Info("EKS API request", "requestId", x.id, "operation", op, "method", r.Method, "path", clip(r.URL.EscapedPath()),
			"status", x.status, "errorCode", x.code, "principal", x.principal, "resource", x.resource, "duration", took)
	}
	if s.audit == nil || !(x.authFailed || mutating(x.op)) {
		return
	}
	line, err := json.Marshal(AuditRecord{
		Time: x.start.UTC().Format(time.RFC3339Nano), RequestID: x.id, Principal: x.principal, AccessKeyID: x.accessKeyID,
		Operation: op, Resource: x.resource, Status: x.status, ErrorCode: x.code,
		Duration: took.Round(time.Microsecond).String(), SourceIP: sourceIP(r), UserAgent: clip(r.UserAgent()),
	})
	if err != nil {
		return
	}
	line = append(line, '\n')
	s.auditMu.Lock()
	defer s.auditMu.Unlock()
	if _, err := s.audit.Write(line); err != nil {
		s.log.Error(err, "writing the EKS API's audit log failed", "requestId", x.id)
	}
}
