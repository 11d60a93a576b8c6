package auth

import "net/http"

// The error codes of failed authentication, AWS's: clients and the aws CLI
// recognise them (botocore, for one, refreshes its clock on a signature
// that expired).
const (
	// CodeMissingAuthenticationToken: neither an Authorization header nor
	// a presigned URL's query parameters.
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	// CodeIncompleteSignature: a malformed Authorization header or
	// presigned query, or one without an X-Amz-Date.
	CodeIncompleteSignature = "IncompleteSignatureException"
	// CodeUnrecognizedClient: an unknown or revoked access key id, or a
	// session token (kdp issues none).
	CodeUnrecognizedClient = "UnrecognizedClientException"
	// CodeInvalidSignature: a signature that does not match, a wrong
	// credential scope, a request too far from the server's clock or a
	// presigned URL that expired.
	CodeInvalidSignature = "InvalidSignatureException"
)

const (
	msgMissingToken   = "Missing Authentication Token"
	msgInvalidToken   = "The security token included in the request is invalid."
	msgSignatureWrong = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// Error is a request that failed authentication. Its HTTP status is always
// 403; Code goes in the X-Amzn-ErrorType header and Message in the body's
// "message", which never holds a secret or the signature kdp computed.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// StatusCode is the HTTP status of the response: 403 Forbidden.
func (e *Error) StatusCode() int { return http.StatusForbidden }

func incomplete(msg string) *Error { return &Error{Code: CodeIncompleteSignature, Message: msg} }

func invalid(msg string) *Error { return &Error{Code: CodeInvalidSignature, Message: msg} }

// clip bounds a value a client sent before an error message repeats it.
func clip(s string) string {
	const max = 128
	if len(s) > max {
		s = s[:max] + "..."
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c >= 0x7f {
			b[i] = '?'
		}
	}
	return string(b)
}
