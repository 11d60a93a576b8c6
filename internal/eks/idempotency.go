package eks

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Annotations on the resources that keep what idempotency needs: the
// clientRequestToken of the request that created (or last updated) the
// resource and a digest of that request, so that a retry of the same
// request answers the same result and a reuse of the token for another
// request is refused. Kubernetes is the only store.
const (
	AnnotationCreateRequest  = "eks.kdp.dev/create-request"
	AnnotationConfigRequest  = "eks.kdp.dev/config-request"
	AnnotationVersionRequest = "eks.kdp.dev/version-request"
)

// requestRecord is one request, as an annotation keeps it.
type requestRecord struct {
	Token string    `json:"token,omitempty"`
	Hash  string    `json:"hash"`
	At    time.Time `json:"at"`
	// Update is the id of the update the request started, for updates.
	Update string `json:"update,omitempty"`
}

// request is the record of a request (body: the request's members without
// its token) made at now.
func request(token string, body any, now time.Time) requestRecord {
	return requestRecord{Token: token, Hash: digest(body), At: now.UTC()}
}

// digest identifies a request by what it asks for: JSON encodes struct
// fields in order and maps in key order, so equal requests digest alike.
func digest(body any) string {
	b, _ := json.Marshal(body)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// annotate writes the record into annotations under key.
func (r requestRecord) annotate(annotations map[string]string, key string) map[string]string {
	if annotations == nil {
		annotations = map[string]string{}
	}
	b, _ := json.Marshal(r)
	annotations[key] = string(b)
	return annotations
}

// recordOf reads the record an annotation keeps (zero if none).
func recordOf(annotation string) requestRecord {
	var r requestRecord
	if annotation != "" {
		_ = json.Unmarshal([]byte(annotation), &r)
	}
	return r
}

// replay decides about a request whose resource exists, made before by
// the request recorded in annotation: nil if it is the same request (same
// token, same members: answer what it did), InvalidRequestException if
// the token is the same but the request is not, ResourceInUseException
// otherwise (another request made it).
func (r requestRecord) replay(annotation string, ctx Error) *Error {
	before := recordOf(annotation)
	e := ctx
	switch {
	case r.Token == "" || before.Token != r.Token:
		e.Code, e.Message = CodeResourceInUse, "the resource already exists"
		return &e
	case before.Hash != r.Hash:
		e.Code, e.Message = CodeInvalidRequest, "clientRequestToken "+r.Token+" was already used with a different request: use a new token for a new request"
		return &e
	}
	return nil
}
