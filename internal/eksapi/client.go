package eksapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/kdp-project/kdp/internal/eks"
	"github.com/kdp-project/kdp/internal/eks/types"
)

// Client calls a kdp's EKS API over HTTP, signed with SigV4, in the
// types of internal/eks/types: what the kdp CLI uses for what only the
// running kdp does (the clusters CreateCluster makes are its processes).
// Its errors are *eks.Error, with the code, message and context members
// of the answer.
type Client struct {
	// Endpoint is the API's URL (http://HOST:PORT).
	Endpoint string
	// AccessKeyID and SecretAccessKey sign the requests, for Region.
	AccessKeyID, SecretAccessKey, Region string
	// HTTP is the client requests go through; http.DefaultClient if nil.
	HTTP *http.Client
}

// Call runs operation op (its model's name) with in, decoding the answer
// into out (the operation's output type, a pointer).
func (c *Client) Call(ctx context.Context, op string, in, out any) error {
	o := findOperation(op)
	if o == nil {
		return fmt.Errorf("eksapi: no operation %s", op)
	}
	path, query, body, err := encodeInput(o, in)
	if err != nil {
		return err
	}
	u := strings.TrimSuffix(c.Endpoint, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, o.Method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "eks", c.Region, time.Now()); err != nil {
		return err
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("calling kdp's EKS API at %s (is kdp up running?): %w", c.Endpoint, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return decodeError(resp, data)
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: decoding the answer: %w", op, err)
	}
	return nil
}

func findOperation(name string) *types.Operation {
	for i := range types.Operations {
		if types.Operations[i].Name == name {
			return &types.Operations[i]
		}
	}
	return nil
}

// encodeInput puts in's members where the operation's model has them:
// URI labels, query parameters, and the JSON body (the rest: the
// members whose json tag is not "-").
func encodeInput(op *types.Operation, in any) (string, url.Values, []byte, error) {
	path, _, _ := strings.Cut(op.URI, "?")
	query := url.Values{}
	v := reflect.ValueOf(in)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return "", nil, nil, fmt.Errorf("%s: the input is a %s, not a struct", op.Name, v.Kind())
	}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("locationName")
		fv := v.Field(i)
		switch f.Tag.Get("location") {
		case "uri":
			s := fmt.Sprint(fv.Interface())
			path = strings.Replace(path, "{"+name+"}", url.PathEscape(s), 1)
		case "querystring":
			switch {
			case fv.Kind() == reflect.Pointer && !fv.IsNil():
				query.Set(name, fmt.Sprint(fv.Elem().Interface()))
			case fv.Kind() == reflect.String && fv.String() != "":
				query.Set(name, fv.String())
			case fv.Kind() == reflect.Slice:
				for j := range fv.Len() {
					query.Add(name, fmt.Sprint(fv.Index(j).Interface()))
				}
			}
		}
	}
	if op.Method == http.MethodGet || op.Method == http.MethodDelete {
		return path, query, nil, nil
	}
	body, err := json.Marshal(in)
	if err != nil {
		return "", nil, nil, err
	}
	return path, query, body, nil
}

// decodeError is the *eks.Error of an error answer, with the fields and
// problems kdp sends beside EKS's members.
func decodeError(resp *http.Response, data []byte) error {
	var body struct {
		Type               string        `json:"__type"`
		Message            string        `json:"message"`
		ClusterName        string        `json:"clusterName"`
		NodegroupName      string        `json:"nodegroupName"`
		FargateProfileName string        `json:"fargateProfileName"`
		Fields             []string      `json:"kdpFields"`   // errorBody's fieldsMember
		Problems           []eks.Problem `json:"kdpProblems"` // and problemsMember
	}
	_ = json.Unmarshal(data, &body) // a member of another type is left empty
	code, _, _ := strings.Cut(resp.Header.Get("X-Amzn-ErrorType"), ":")
	if code == "" {
		code = body.Type
	}
	if code == "" {
		code = "HTTP" + strconv.Itoa(resp.StatusCode)
	}
	msg := body.Message
	if msg == "" {
		msg = strings.TrimSpace(string(data))
	}
	return &eks.Error{Code: code, Message: msg, ClusterName: body.ClusterName, NodegroupName: body.NodegroupName,
		FargateProfileName: body.FargateProfileName, Fields: body.Fields, Problems: body.Problems}
}
