package iamauth

import (
	"encoding/xml"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
	"k8s.io/utils/clock"

	"github.com/kdp-project/kdp/internal/eksapi/auth"
)

// STSOptions configure the STS handler.
type STSOptions struct {
	// Keys are the access keys requests are signed with.
	Keys auth.Keys
	// Region is the region requests must be signed for.
	Region string
	Clock  clock.PassiveClock
}

// IsSTSRequest reports whether r is a request of STS's query protocol
// (awsQuery): to "/", with an Action in the query or a form body. The
// EKS API (restJson1) has no operation at "/", so one port serves both.
func IsSTSRequest(r *http.Request) bool {
	if r.URL.Path != "/" {
		return false
	}
	if r.URL.Query().Get("Action") != "" {
		return true
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return r.Method == http.MethodPost && ct == "application/x-www-form-urlencoded"
}

// NewSTS serves STS's GetCallerIdentity for kdp's access keys, as the
// aws CLI and the SDKs call it: POST / with a form body (or GET with the
// query), signed with SigV4 for the service sts. It answers STS's XML.
func NewSTS(o STSOptions) http.Handler {
	return &stsHandler{o: o}
}

type stsHandler struct{ o STSOptions }

const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

type callerIdentityResponse struct {
	XMLName   xml.Name `xml:"GetCallerIdentityResponse"`
	Namespace string   `xml:"xmlns,attr"`
	Result    struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	} `xml:"GetCallerIdentityResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Namespace string   `xml:"xmlns,attr"`
	Error     struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

func (h *stsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := uuid.NewString()
	w.Header().Set("X-Amzn-Requestid", id)
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		h.fail(w, id, http.StatusBadRequest, "MalformedInput", "the request's body could not be read")
		return
	}
	v := &auth.Verifier{Store: h.o.Keys, Region: h.o.Region, Service: "sts", Clock: h.o.Clock}
	cred, err := v.Verify(r, body)
	if err != nil {
		var ae *auth.Error
		if errors.As(err, &ae) {
			code := ae.Code
			switch code {
			case auth.CodeInvalidSignature:
				code = "SignatureDoesNotMatch" // STS's name for it
			case auth.CodeUnrecognizedClient:
				code = "InvalidClientTokenId"
			}
			h.fail(w, id, http.StatusForbidden, code, ae.Message)
			return
		}
		h.fail(w, id, http.StatusForbidden, "AccessDenied", err.Error())
		return
	}
	params := r.URL.Query()
	if r.Method == http.MethodPost {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			h.fail(w, id, http.StatusBadRequest, "MalformedInput", "the request's form body does not parse")
			return
		}
		for k, vs := range form {
			params[k] = vs
		}
	}
	if action := params.Get("Action"); action != "GetCallerIdentity" {
		h.fail(w, id, http.StatusBadRequest, "InvalidAction", "Could not find operation "+action+" for version "+params.Get("Version")+": kdp's STS serves GetCallerIdentity only")
		return
	}
	who := identityOf(cred)
	out := callerIdentityResponse{Namespace: stsNamespace, RequestID: id}
	out.Result.Arn, out.Result.UserID, out.Result.Account = who.ARN, who.UserID, who.AccountID
	writeXML(w, http.StatusOK, out)
}

func (h *stsHandler) fail(w http.ResponseWriter, id string, status int, code, msg string) {
	out := errorResponse{Namespace: stsNamespace, RequestID: id}
	out.Error.Type, out.Error.Code, out.Error.Message = "Sender", code, strings.TrimSpace(msg)
	writeXML(w, status, out)
}

func writeXML(w http.ResponseWriter, status int, v any) {
	data, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write(append([]byte(xml.Header), data...))
}
