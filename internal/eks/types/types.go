// Package types holds the shapes of the EKS API (generated from its
// service model into zz_generated.types.go) and what the HTTP layer needs
// to serve them: the table of operations, the HTTP status and members of
// each error, and the wire form of timestamps.
package types

//go:generate go run ./gen -model gen/service-2.json.gz -out zz_generated.types.go

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Operation is one operation of the EKS API, as its model declares it.
type Operation struct {
	Name   string
	Method string
	// URI is the model's request URI: a path with {label} parts, and
	// perhaps a fixed query (none of EKS's has one).
	URI           string
	Input, Output string
	// Errors are the error shapes the operation may answer with.
	Errors []string
	// Served says whether kdp implements it.
	Served bool
}

// Declares reports whether the operation may answer with the error code.
func (o Operation) Declares(code string) bool {
	for _, e := range o.Errors {
		if e == code {
			return true
		}
	}
	return false
}

// Binding calls API's method of one operation: NewInput is a new request
// shape to decode into, Call passes it to the method.
type Binding struct {
	NewInput func() any
	Call     func(ctx context.Context, api API, in any) (any, error)
}

// Timestamp is a time as the EKS API sends it: epoch seconds, a JSON
// number with a fraction (milliseconds).
type Timestamp struct{ time.Time }

// NewTimestamp is t as a Timestamp; the zero time is nil (absent).
func NewTimestamp(t time.Time) *Timestamp {
	if t.IsZero() {
		return nil
	}
	return &Timestamp{t}
}

// MarshalJSON writes epoch seconds, with milliseconds when there are any.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	ms := t.UnixMilli()
	s := strconv.FormatInt(ms/1000, 10)
	if frac := ms % 1000; frac != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%03d", frac), "0")
	}
	return []byte(s), nil
}

// UnmarshalJSON reads epoch seconds (with a fraction or not).
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("a timestamp is epoch seconds, a number: %w", err)
	}
	sec := int64(f)
	t.Time = time.Unix(sec, int64((f-float64(sec))*1e9)).Round(time.Millisecond).UTC()
	return nil
}
