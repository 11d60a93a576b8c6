package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"k8s.io/utils/clock"
)

// Keys finds the credential of an access key id; *Store is one.
type Keys interface {
	Lookup(accessKeyID string) (Credential, bool)
}

// DefaultMaxSkew is how far AWS lets a request's X-Amz-Date be from its
// clock.
const DefaultMaxSkew = 5 * time.Minute

const (
	algorithm  = "AWS4-HMAC-SHA256"
	terminator = "aws4_request"
	amzDate    = "20060102T150405Z"
	maxExpires = 7 * 24 * 60 * 60 // a week, AWS's limit for presigned URLs
)

// Verifier authenticates SigV4-signed requests, signed in the Authorization
// header or presigned in the query, the way AWS does: it signs the request
// again with the key's stored secret, using aws-sdk-go-v2's signer, and
// compares. A Verifier must not be copied after its first use.
type Verifier struct {
	Store Keys
	// Region is the region requests must be signed for.
	Region string
	// Service is the signing name, "eks" if empty.
	Service string
	// Clock is the server's clock, the real one if nil.
	Clock clock.PassiveClock
	// MaxSkew bounds the distance between X-Amz-Date and Clock;
	// DefaultMaxSkew if zero.
	MaxSkew time.Duration

	once   sync.Once
	signer *v4.Signer
}

// signature is what a request says about its signature.
type signature struct {
	presigned     bool
	accessKeyID   string
	credential    string // AKID/date/region/service/terminator
	scope         []string
	signedHeaders []string
	signature     string
	date          time.Time
	expires       time.Duration // presigned only
}

// Verify authenticates r, whose body the caller has read into body. It
// returns the credential that signed r, or an *Error (403) saying why r
// is refused. The path is taken exactly as the client sent it (EKS paths
// carry percent-encoded ARNs, which SigV4 encodes once more).
//
// Two limits come from the signer: a client that signed a header
// aws-sdk-go-v2 never signs (User-Agent, X-Amzn-Trace-Id, Expect,
// Transfer-Encoding), or a Content-Length of 0, is refused. botocore and
// the AWS SDKs sign neither.
func (v *Verifier) Verify(r *http.Request, body []byte) (Credential, error) {
	v.once.Do(func() { v.signer = v4.NewSigner() })
	sig, err := parse(r)
	if err != nil {
		return Credential{}, err
	}
	if err := v.checkScope(sig); err != nil {
		return Credential{}, err
	}
	if err := v.checkTime(sig); err != nil {
		return Credential{}, err
	}
	if r.Header.Get("X-Amz-Security-Token") != "" || r.URL.Query().Has("X-Amz-Security-Token") {
		// kdp's keys are long-term ones: a token is from somewhere else.
		return Credential{}, &Error{Code: CodeUnrecognizedClient, Message: msgInvalidToken}
	}
	cred, ok := v.Store.Lookup(sig.accessKeyID)
	if !ok {
		return Credential{}, &Error{Code: CodeUnrecognizedClient, Message: msgInvalidToken}
	}
	want, err := v.sign(r, body, sig, cred)
	if err != nil || subtle.ConstantTimeCompare([]byte(want), []byte(sig.signature)) != 1 {
		return Credential{}, invalid(msgSignatureWrong)
	}
	return cred, nil
}

// parse reads the signature's parts from the Authorization header or the
// presigned query.
func parse(r *http.Request) (*signature, error) {
	authz := r.Header.Get("Authorization")
	q := r.URL.Query()
	presigned := q.Has("X-Amz-Algorithm") || q.Has("X-Amz-Signature") || q.Has("X-Amz-Credential")
	switch {
	case authz == "" && !presigned:
		return nil, &Error{Code: CodeMissingAuthenticationToken, Message: msgMissingToken}
	case authz != "" && presigned:
		return nil, incomplete("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter " +
			"or the Authorization header should be specified.")
	case presigned:
		return parseQuery(q)
	default:
		return parseHeader(authz, r.Header.Get("X-Amz-Date"))
	}
}

func parseHeader(authz, date string) (*signature, error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(authz), " ")
	if alg != algorithm {
		return nil, incomplete(fmt.Sprintf("Authorization header must use the %s algorithm (SigV4), not '%s'.", algorithm, clip(alg)))
	}
	params := map[string]string{}
	for _, kv := range strings.Split(rest, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, incomplete(fmt.Sprintf("'%s' not a valid key=value pair (missing equal-sign) in Authorization header.", clip(kv)))
		}
		params[k] = v
	}
	var missing []string
	for _, k := range []string{"Credential", "Signature", "SignedHeaders"} {
		if params[k] == "" {
			missing = append(missing, fmt.Sprintf("Authorization header requires '%s' parameter.", k))
		}
	}
	if date == "" {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if len(missing) > 0 {
		return nil, incomplete(strings.Join(missing, " "))
	}
	return newSignature(false, params["Credential"], params["SignedHeaders"], params["Signature"], date, "")
}

func parseQuery(q url.Values) (*signature, error) {
	var missing []string
	for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date", "X-Amz-Expires"} {
		if q.Get(k) == "" {
			missing = append(missing, fmt.Sprintf("AWS query-string parameters must include '%s'.", k))
		}
	}
	if len(missing) > 0 {
		return nil, incomplete(strings.Join(missing, " ") + " Re-examine the query-string parameters.")
	}
	if alg := q.Get("X-Amz-Algorithm"); alg != algorithm {
		return nil, incomplete(fmt.Sprintf("X-Amz-Algorithm must be %s (SigV4), not '%s'.", algorithm, clip(alg)))
	}
	return newSignature(true, q.Get("X-Amz-Credential"), q.Get("X-Amz-SignedHeaders"), q.Get("X-Amz-Signature"), q.Get("X-Amz-Date"), q.Get("X-Amz-Expires"))
}

func newSignature(presigned bool, credential, signedHeaders, sig, date, expires string) (*signature, error) {
	s := &signature{presigned: presigned, credential: credential, signature: sig}
	parts := strings.Split(credential, "/")
	if len(parts) != 5 || parts[0] == "" {
		return nil, incomplete(fmt.Sprintf("Credential must have exactly 5 slash-delimited elements, "+
			"e.g. keyid/date/region/service/term, got '%s'.", clip(credential)))
	}
	s.accessKeyID, s.scope = parts[0], parts[1:]
	s.signedHeaders = strings.Split(signedHeaders, ";")
	hasHost := false
	for _, h := range s.signedHeaders {
		if h == "" || h != strings.ToLower(h) {
			return nil, incomplete(fmt.Sprintf("SignedHeaders must be lower-case header names separated by ';', got '%s'.", clip(signedHeaders)))
		}
		hasHost = hasHost || h == "host"
	}
	if !hasHost {
		return nil, incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	t, err := time.Parse(amzDate, date)
	if err != nil || t.Format(amzDate) != date {
		return nil, incomplete(fmt.Sprintf("Date must be in ISO-8601 'basic format'. Got '%s'. "+
			"See http://en.wikipedia.org/wiki/ISO_8601", clip(date)))
	}
	s.date = t
	if presigned {
		n, err := strconv.Atoi(expires)
		if err != nil || n < 1 || n > maxExpires {
			return nil, incomplete(fmt.Sprintf("X-Amz-Expires must be a number of seconds from 1 to %d (a week), got '%s'.", maxExpires, clip(expires)))
		}
		s.expires = time.Duration(n) * time.Second
	}
	return s, nil
}

func (v *Verifier) service() string {
	if v.Service == "" {
		return "eks"
	}
	return v.Service
}

func (v *Verifier) checkScope(s *signature) error {
	day, region, service, term := s.scope[0], s.scope[1], s.scope[2], s.scope[3]
	switch {
	case term != terminator:
		return invalid(fmt.Sprintf("Credential should be scoped with a valid terminator: '%s', not '%s'.", terminator, clip(term)))
	case service != v.service():
		return invalid(fmt.Sprintf("Credential should be scoped to correct service: '%s'.", v.service()))
	case region != v.Region:
		return invalid(fmt.Sprintf("Credential should be scoped to a valid region. This endpoint serves '%s', not '%s'.", v.Region, clip(region)))
	case day != s.date.Format("20060102"):
		return invalid(fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			clip(day), s.date.Format("20060102"), s.date.Format(amzDate)))
	}
	return nil
}

func (v *Verifier) checkTime(s *signature) error {
	now := time.Now()
	if v.Clock != nil {
		now = v.Clock.Now()
	}
	now = now.UTC()
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	f := func(t time.Time) string { return t.Format(amzDate) }
	if s.date.After(now.Add(skew)) {
		return invalid(fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s.)",
			f(s.date), f(now.Add(skew)), f(now), minutes(skew)))
	}
	if s.presigned {
		if end := s.date.Add(s.expires); now.After(end) {
			return invalid(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s + %d sec.)",
				f(end), f(now), f(s.date), int(s.expires/time.Second)))
		}
		return nil
	}
	if s.date.Before(now.Add(-skew)) {
		return invalid(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s.)",
			f(s.date), f(now.Add(-skew)), f(now), minutes(skew)))
	}
	return nil
}

func minutes(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return d.String()
}

// sign signs a copy of r made of what the client signed, with cred's
// secret at the request's date, and returns the signature.
func (v *Verifier) sign(r *http.Request, body []byte, s *signature, cred Credential) (string, error) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	rawQuery := r.URL.RawQuery
	if s.presigned {
		q := r.URL.Query()
		q.Del("X-Amz-Signature")
		rawQuery = q.Encode()
	}
	// Opaque "//host/path" hands the signer the path exactly as sent.
	u := &url.URL{Scheme: scheme, Host: r.Host, Opaque: "//" + r.Host + sentPath(r), RawQuery: rawQuery}
	req := &http.Request{Method: r.Method, URL: u, Host: r.Host, Header: make(http.Header, len(s.signedHeaders))}
	for _, h := range s.signedHeaders {
		switch h {
		case "host":
		case "content-length":
			req.ContentLength = r.ContentLength
		default:
			vals := r.Header.Values(h)
			if len(vals) == 0 {
				vals = []string{""}
			}
			req.Header[textproto.CanonicalMIMEHeaderKey(h)] = vals
		}
	}
	sum := sha256.Sum256(body)
	payload := hex.EncodeToString(sum[:])
	creds := aws.Credentials{AccessKeyID: cred.AccessKeyID, SecretAccessKey: cred.SecretAccessKey}
	ctx := context.Background()
	if s.presigned {
		signed, _, err := v.signer.PresignHTTP(ctx, creds, req, payload, s.scope[2], s.scope[1], s.date,
			func(o *v4.SignerOptions) { o.DisableHeaderHoisting = true })
		if err != nil {
			return "", err
		}
		// The signer appends the signature last.
		const key = "X-Amz-Signature="
		return signed[strings.LastIndex(signed, key)+len(key):], nil
	}
	if err := v.signer.SignHTTP(ctx, creds, req, payload, s.scope[2], s.scope[1], s.date); err != nil {
		return "", err
	}
	_, sig, _ := strings.Cut(req.Header.Get("Authorization"), "Signature=")
	return sig, nil
}

// sentPath is r's path as the client sent it.
func sentPath(r *http.Request) string {
	p := r.RequestURI
	if p == "" || p == "*" {
		return r.URL.EscapedPath()
	}
	if i := strings.Index(p, "://"); i >= 0 { // absolute-form
		p = p[i+3:]
		if j := strings.IndexByte(p, '/'); j >= 0 {
			p = p[j:]
		} else {
			p = "/"
		}
	}
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if p == "" {
		p = "/"
	}
	return p
}
