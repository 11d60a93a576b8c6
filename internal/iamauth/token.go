// Package iamauth does what aws-iam-authenticator does for EKS clusters,
// with the verification done locally: kdp is the STS of its own access
// keys.
//
// A client authenticates to a cluster with a bearer token from `aws eks
// get-token` (or an SDK's presigner): "k8s-aws-v1." and the unpadded
// base64url of a presigned STS GetCallerIdentity URL, signed with the
// header x-k8s-aws-id naming the cluster. aws-iam-authenticator checks
// the URL's form and sends it to STS, which answers who signed it; kdp
// checks the same form and verifies the SigV4 signature itself, with the
// keys it issued (internal/eksapi/auth). The package also serves STS's
// GetCallerIdentity (so `aws sts get-caller-identity` works against
// kdp), and the TokenReview webhook a cluster's API server calls with the
// tokens it gets.
package iamauth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"k8s.io/utils/clock"

	"github.com/kdp-project/kdp/internal/eksapi/auth"
)

// TokenPrefix begins every EKS token.
const TokenPrefix = "k8s-aws-v1."

// ClusterIDHeader is the signed header that names the cluster a token is
// for.
const ClusterIDHeader = "x-k8s-aws-id"

// MaxTokenAge is how long a token is valid after it was signed, whatever
// its X-Amz-Expires says: aws-iam-authenticator's rule (kubectl caches a
// token from aws eks get-token for 14 minutes).
const MaxTokenAge = 15 * time.Minute

// maxTokenBytes bounds a token, as aws-iam-authenticator does.
const maxTokenBytes = 8 << 10

// The query parameters a presigned GetCallerIdentity URL may carry.
var allowedParams = []string{
	"action", "version", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-expires",
	"x-amz-security-token", "x-amz-signature", "x-amz-signedheaders",
}

// Identity is who signed a token: an IAM principal.
type Identity struct {
	// ARN is the principal's ARN as STS answers it (an assumed role's
	// session ARN for a role), and CanonicalARN the principal's own (the
	// role's ARN for a session): what access entries name.
	ARN, CanonicalARN string
	AccountID         string
	// UserID is STS's unique id of the principal.
	UserID      string
	AccessKeyID string
	// SessionName is an assumed role's session name, "" for a user.
	SessionName string
}

// TokenVerifier verifies EKS tokens.
type TokenVerifier struct {
	// Keys are the access keys tokens may be signed with.
	Keys auth.Keys
	// Region is the region tokens must be signed for.
	Region string
	// Hosts are the host[:port]s a token's URL may name (where kdp serves
	// STS); any host if empty. A host is compared without case.
	Hosts []string
	// Clock is the real one if nil.
	Clock clock.PassiveClock
}

// Error is a token that is refused: Reason says why, for the API
// server's log and the TokenReview's status.
type Error struct{ Reason string }

func (e *Error) Error() string { return e.Reason }

func refuse(format string, args ...any) error { return &Error{Reason: fmt.Sprintf(format, args...)} }

// Verify checks token for the cluster clusterID and returns who signed
// it, or an *Error saying why it is refused.
func (v *TokenVerifier) Verify(token, clusterID string) (Identity, error) {
	if len(token) > maxTokenBytes {
		return Identity{}, refuse("token is longer than %d bytes", maxTokenBytes)
	}
	encoded, ok := strings.CutPrefix(token, TokenPrefix)
	if !ok {
		return Identity{}, refuse("token is not a k8s-aws-v1 token (aws eks get-token makes them)")
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(encoded, "="))
	if err != nil {
		return Identity{}, refuse("token is not base64url: %v", err)
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		return Identity{}, refuse("token's URL does not parse: %v", err)
	}
	if err := v.checkURL(u); err != nil {
		return Identity{}, err
	}
	q := u.Query()
	signed := strings.Split(strings.ToLower(q.Get("X-Amz-SignedHeaders")), ";")
	if !slices.Contains(signed, ClusterIDHeader) {
		return Identity{}, refuse("token's signature does not cover the %s header: it is not for any one cluster", ClusterIDHeader)
	}
	date, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil {
		return Identity{}, refuse("token's X-Amz-Date %q is not a time (YYYYMMDDTHHMMSSZ)", q.Get("X-Amz-Date"))
	}
	now := time.Now()
	if v.Clock != nil {
		now = v.Clock.Now()
	}
	switch age := now.Sub(date); {
	case age > MaxTokenAge:
		return Identity{}, refuse("token expired: it was signed %s ago, and tokens are valid %s", age.Round(time.Second), MaxTokenAge)
	case age < -auth.DefaultMaxSkew:
		return Identity{}, refuse("token was signed %s in the future", (-age).Round(time.Second))
	}
	req, err := http.NewRequest(http.MethodGet, u.String(), nil)
	if err != nil {
		return Identity{}, refuse("token's URL: %v", err)
	}
	req.Host = u.Host
	req.Header.Set(ClusterIDHeader, clusterID)
	// The signature is checked at the time it was made: how long a token
	// lives is MaxTokenAge, checked above, not its X-Amz-Expires.
	verifier := &auth.Verifier{Store: v.Keys, Region: v.Region, Service: "sts", Clock: signedAt(date)}
	cred, err := verifier.Verify(req, nil)
	if err != nil {
		var ae *auth.Error
		if errors.As(err, &ae) && ae.Code == auth.CodeInvalidSignature {
			return Identity{}, refuse("token's signature does not match (is it for cluster %s, and signed with a key of this kdp?): %s", clusterID, ae.Message)
		}
		return Identity{}, refuse("token: %v", err)
	}
	return identityOf(cred), nil
}

// checkURL checks the form of a token's URL as aws-iam-authenticator
// does: https (or http, kdp's EKS API without TLS) to an STS host, path
// "/", GetCallerIdentity of 2011-06-15, and no other parameters.
func (v *TokenVerifier) checkURL(u *url.URL) error {
	if u.Scheme != "https" && u.Scheme != "http" {
		return refuse("token's URL %s is not http(s)", u.Redacted())
	}
	if len(v.Hosts) > 0 && !slices.ContainsFunc(v.Hosts, func(h string) bool { return strings.EqualFold(h, u.Host) }) {
		return refuse("token's URL is for STS at %s, not at %s (where kdp serves STS: AWS_ENDPOINT_URL_STS)", u.Host, strings.Join(v.Hosts, ", "))
	}
	if u.Path != "/" && u.Path != "" {
		return refuse("token's URL has path %q, not /", u.Path)
	}
	q := u.Query()
	for k := range q {
		if !slices.Contains(allowedParams, strings.ToLower(k)) {
			return refuse("token's URL has a parameter %q that a GetCallerIdentity token has not", k)
		}
	}
	if q.Get("Action") != "GetCallerIdentity" {
		return refuse("token's URL calls %q, not GetCallerIdentity", q.Get("Action"))
	}
	if q.Get("Version") != "2011-06-15" {
		return refuse("token's URL has STS version %q, not 2011-06-15", q.Get("Version"))
	}
	return nil
}

// identityOf is who a credential of kdp's is: an IAM user.
func identityOf(c auth.Credential) Identity {
	id := Identity{ARN: c.ARN, CanonicalARN: canonicalARN(c.ARN), AccessKeyID: c.AccessKeyID, UserID: UserID(c.AccessKeyID)}
	if parts := strings.SplitN(c.ARN, ":", 6); len(parts) == 6 {
		id.AccountID = parts[4]
	}
	if i := strings.Index(c.ARN, ":assumed-role/"); i >= 0 {
		if j := strings.LastIndexByte(c.ARN, '/'); j > i {
			id.SessionName = c.ARN[j+1:]
		}
	}
	return id
}

// canonicalARN is the principal of an ARN: an assumed role's session
// (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION) is its role
// (arn:aws:iam::ACCOUNT:role/ROLE); the rest is as it is.
func canonicalARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "sts" {
		return arn
	}
	rest, ok := strings.CutPrefix(parts[5], "assumed-role/")
	if !ok {
		return arn
	}
	role, _, _ := strings.Cut(rest, "/")
	return "arn:" + parts[1] + ":iam::" + parts[4] + ":role/" + role
}

// UserID is the unique id STS answers for a user of kdp's: AIDA and the
// access key id's characters after its AKIA (a stable id per key, as
// IAM's are per user).
func UserID(accessKeyID string) string {
	return "AIDA" + strings.TrimPrefix(accessKeyID, "AKIA")
}

// signedAt is a clock stopped at a token's signing time.
type signedAt time.Time

func (t signedAt) Now() time.Time                  { return time.Time(t) }
func (t signedAt) Since(u time.Time) time.Duration { return time.Time(t).Sub(u) }
