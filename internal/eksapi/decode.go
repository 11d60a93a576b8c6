package eksapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kdp-project/kdp/internal/eks"
	"github.com/kdp-project/kdp/internal/eks/types"
)

// codec decodes the input of one served operation: its body members from
// the JSON body, its URI and query members by their location tags, and
// checks the model's constraints (required, min, max). It is built once,
// from the input's type.
type codec struct {
	binding types.Binding
	// body says whether the input has body members; a body sent to an
	// operation without any is ignored, as botocore never sends one.
	body  bool
	uri   []param
	query []param
	check *structCheck
	// names are the indexes of the top-level members that say which
	// resource a request is about (-1: none).
	cluster, nodegroup, profile, arn int
}

type paramKind int

const (
	paramString paramKind = iota
	paramInt32
	paramBool
	paramStrings
)

// param is a member bound to a URI label or a query parameter.
type param struct {
	name  string
	index int
	kind  paramKind
}

func newCodec(op *types.Operation, b types.Binding) (*codec, error) {
	t := reflect.TypeOf(b.NewInput())
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("%s: the input is a %s, not a pointer to a struct", op.Name, t)
	}
	t = t.Elem()
	c := &codec{binding: b, cluster: -1, nodegroup: -1, profile: -1, arn: -1}
	for i := range t.NumField() {
		f := t.Field(i)
		name := wireName(f)
		switch loc := f.Tag.Get("location"); loc {
		case "uri", "querystring":
			p := param{name: name, index: i}
			switch {
			case f.Type.Kind() == reflect.String:
				p.kind = paramString
			case f.Type == reflect.TypeFor[*int32]():
				p.kind = paramInt32
			case f.Type == reflect.TypeFor[*bool]():
				p.kind = paramBool
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.String:
				p.kind = paramStrings
			default:
				return nil, fmt.Errorf("%s.%s: a %s member of type %s is not supported", op.Name, f.Name, loc, f.Type)
			}
			if loc == "uri" {
				if p.kind != paramString {
					return nil, fmt.Errorf("%s.%s: a URI label of type %s is not supported", op.Name, f.Name, f.Type)
				}
				if !strings.Contains(op.URI, "{"+name+"}") {
					return nil, fmt.Errorf("%s.%s: URI label %q is not in %s", op.Name, f.Name, name, op.URI)
				}
				c.uri = append(c.uri, p)
			} else {
				c.query = append(c.query, p)
			}
		case "":
			if f.Tag.Get("json") != "-" {
				c.body = true
			}
		default:
			return nil, fmt.Errorf("%s.%s: location %q is not supported", op.Name, f.Name, loc)
		}
		if f.Type.Kind() == reflect.String && f.Tag.Get("location") != "querystring" {
			switch name {
			case "name", "clusterName":
				c.cluster = i
			case "nodegroupName":
				c.nodegroup = i
			case "fargateProfileName":
				c.profile = i
			case "resourceArn":
				c.arn = i
			}
		}
	}
	c.check = checksOf(t, map[reflect.Type]*structCheck{})
	return c, nil
}

// wireName is a member's name on the wire: its location name, else its
// JSON name.
func wireName(f reflect.StructField) string {
	if n := f.Tag.Get("locationName"); n != "" {
		return n
	}
	n, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if n == "" || n == "-" {
		return f.Name
	}
	return n
}

// decode returns the operation's input from the request's labels, query
// and body, or an InvalidParameterException (conformed to the operation
// later) saying what is wrong with it: every constraint it breaks at once.
func (c *codec) decode(labels map[string]string, rawQuery string, body []byte) (any, *eks.Error) {
	in := c.binding.NewInput()
	v := reflect.ValueOf(in).Elem()
	for _, p := range c.uri {
		v.Field(p.index).SetString(labels[p.name])
	}
	// After the labels, so that an error names the cluster: a body never
	// sets a URI member (json:"-").
	if c.body && len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, in); err != nil {
			return in, &eks.Error{Code: eks.CodeInvalidParameter, Message: bodyError(err)}
		}
	}
	if len(c.query) > 0 && rawQuery != "" {
		q, err := url.ParseQuery(rawQuery)
		if err != nil && len(q) == 0 {
			return in, &eks.Error{Code: eks.CodeInvalidParameter, Message: "the query string is not valid: " + clip(err.Error())}
		}
		for _, p := range c.query {
			vals, ok := q[p.name]
			if !ok || len(vals) == 0 {
				continue
			}
			f := v.Field(p.index)
			switch p.kind {
			case paramString:
				f.SetString(vals[0])
			case paramStrings:
				f.Set(reflect.ValueOf(append([]string(nil), vals...)).Convert(f.Type()))
			case paramInt32:
				n, err := strconv.ParseInt(vals[0], 10, 32)
				if err != nil {
					return in, &eks.Error{Code: eks.CodeInvalidParameter, Fields: []string{p.name},
						Message: fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must be an integer between %d and %d", clip(vals[0]), p.name, int32(-1<<31), int32(1<<31-1))}
				}
				n32 := int32(n)
				f.Set(reflect.ValueOf(&n32))
			case paramBool:
				b, err := strconv.ParseBool(vals[0])
				if err != nil {
					return in, &eks.Error{Code: eks.CodeInvalidParameter, Fields: []string{p.name},
						Message: fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must be true or false", clip(vals[0]), p.name)}
				}
				f.Set(reflect.ValueOf(&b))
			}
		}
	}
	var vs violations
	c.check.validate(v, "", &vs)
	if err := vs.err(); err != nil {
		return in, err
	}
	return in, nil
}

// bodyError says what is wrong with a body encoding/json refused.
func bodyError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("the request body is not valid JSON: %s (at byte %d)", clip(syn.Error()), syn.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("the request body's member '%s' must be %s, not a JSON %s", clip(typ.Field), jsonKind(typ.Type), typ.Value)
	case errors.As(err, &typ):
		return fmt.Sprintf("the request body must be a JSON object, not a JSON %s", typ.Value)
	}
	return "the request body could not be read as the operation's input: " + clip(err.Error())
}

func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer of " + strconv.Itoa(t.Bits()) + " bits"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a " + t.String()
}

// resource names what the request is about, for the audit log: the ARN of
// a tag operation, else cluster/NAME, nodegroup/CLUSTER/NAME or
// fargateprofile/CLUSTER/NAME (the resource part of EKS's ARNs, without
// the id).
func (c *codec) resource(in any) string {
	v := reflect.ValueOf(in).Elem()
	str := func(i int) string {
		if i < 0 {
			return ""
		}
		return v.Field(i).String()
	}
	return resourceOf(str(c.cluster), str(c.nodegroup), str(c.profile), str(c.arn))
}

func resourceOf(cluster, nodegroup, profile, arn string) string {
	switch {
	case arn != "":
		return arn
	case nodegroup != "":
		return "nodegroup/" + cluster + "/" + nodegroup
	case profile != "":
		return "fargateprofile/" + cluster + "/" + profile
	case cluster != "":
		return "cluster/" + cluster
	}
	return ""
}

// context fills in an error's context members from the input, where the
// error leaves them empty.
func (c *codec) context(in any, e *eks.Error) {
	v := reflect.ValueOf(in).Elem()
	fill := func(dst *string, i int) {
		if *dst == "" && i >= 0 {
			*dst = v.Field(i).String()
		}
	}
	fill(&e.ClusterName, c.cluster)
	fill(&e.NodegroupName, c.nodegroup)
	fill(&e.FargateProfileName, c.profile)
}

// structCheck is the constraints of a struct's members, and of the structs
// within them.
type structCheck struct {
	fields []fieldCheck
}

type fieldCheck struct {
	index    int
	name     string
	required bool
	min, max *int64
	// elem checks a struct member (or the structs a pointer or a list
	// holds).
	elem *structCheck
}

// checksOf is t's constraints, nil if it has none.
func checksOf(t reflect.Type, seen map[reflect.Type]*structCheck) *structCheck {
	if sc, ok := seen[t]; ok {
		return sc
	}
	sc := &structCheck{}
	seen[t] = sc
	for i := range t.NumField() {
		f := t.Field(i)
		fc := fieldCheck{index: i, name: wireName(f), required: f.Tag.Get("required") == "true"}
		fc.min, fc.max = bound(f.Tag.Get("min")), bound(f.Tag.Get("max"))
		et := f.Type
		for et.Kind() == reflect.Pointer || et.Kind() == reflect.Slice {
			et = et.Elem()
		}
		if et.Kind() == reflect.Struct && et != reflect.TypeFor[types.Timestamp]() {
			fc.elem = checksOf(et, seen)
		}
		if fc.required || fc.min != nil || fc.max != nil || fc.elem != nil {
			sc.fields = append(sc.fields, fc)
		}
	}
	if len(sc.fields) == 0 {
		seen[t] = nil
		return nil
	}
	return sc
}

func bound(s string) *int64 {
	if s == "" {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		panic(fmt.Sprintf("eksapi: a min or max tag %q is not an integer", s))
	}
	return &n
}

// violations are the constraints a request breaks, as AWS words them.
type violations struct {
	msgs   []string
	fields []string
}

func (vs *violations) add(path, value, constraint string) {
	vs.fields = append(vs.fields, path)
	vs.msgs = append(vs.msgs, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: Member must %s", value, path, constraint))
}

func (vs *violations) err() *eks.Error {
	if len(vs.msgs) == 0 {
		return nil
	}
	s := "s"
	if len(vs.msgs) == 1 {
		s = ""
	}
	return &eks.Error{
		Code:    eks.CodeInvalidParameter,
		Message: fmt.Sprintf("%d validation error%s detected: %s", len(vs.msgs), s, strings.Join(vs.msgs, "; ")),
		Fields:  vs.fields,
	}
}

func (sc *structCheck) validate(v reflect.Value, prefix string, vs *violations) {
	if sc == nil {
		return
	}
	for _, fc := range sc.fields {
		f := v.Field(fc.index)
		path := prefix + fc.name
		switch f.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map:
			if f.IsNil() {
				if fc.required {
					vs.add(path, "null", "not be null")
				}
				continue
			}
		case reflect.String:
			if f.Len() == 0 && fc.required {
				vs.add(path, "null", "not be null")
				continue
			}
		}
		switch f.Kind() {
		case reflect.Pointer:
			e := f.Elem()
			switch e.Kind() {
			case reflect.Struct:
				fc.elem.validate(e, path+".", vs)
			case reflect.Int32, reflect.Int64, reflect.Int:
				fc.value(e.Int(), path, vs)
			}
		case reflect.Int32, reflect.Int64, reflect.Int:
			fc.value(f.Int(), path, vs)
		case reflect.String:
			fc.length(int64(utf8.RuneCountInString(f.String())), "'"+clip(f.String())+"'", path, vs)
		case reflect.Slice, reflect.Map:
			fc.length(int64(f.Len()), "'"+clip(render(f))+"'", path, vs)
			if f.Kind() == reflect.Slice && fc.elem != nil {
				for i := range f.Len() {
					e := f.Index(i)
					if e.Kind() == reflect.Pointer {
						if e.IsNil() {
							continue
						}
						e = e.Elem()
					}
					fc.elem.validate(e, path+"."+strconv.Itoa(i+1)+".member.", vs)
				}
			}
		case reflect.Struct:
			fc.elem.validate(f, path+".", vs)
		}
	}
}

func (fc *fieldCheck) value(n int64, path string, vs *violations) {
	if fc.min != nil && n < *fc.min {
		vs.add(path, fmt.Sprintf("'%d'", n), fmt.Sprintf("have value greater than or equal to %d", *fc.min))
	}
	if fc.max != nil && n > *fc.max {
		vs.add(path, fmt.Sprintf("'%d'", n), fmt.Sprintf("have value less than or equal to %d", *fc.max))
	}
}

func (fc *fieldCheck) length(n int64, value, path string, vs *violations) {
	if fc.min != nil && n < *fc.min {
		vs.add(path, value, fmt.Sprintf("have length greater than or equal to %d", *fc.min))
	}
	if fc.max != nil && n > *fc.max {
		vs.add(path, value, fmt.Sprintf("have length less than or equal to %d", *fc.max))
	}
}

// render is a list or map as AWS's messages show one: [a, b], {k=v}.
func render(v reflect.Value) string {
	var b strings.Builder
	if v.Kind() == reflect.Map {
		b.WriteByte('{')
		iter := v.MapRange()
		for i := 0; iter.Next() && b.Len() < maxShown; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%v=%v", iter.Key(), iter.Value())
		}
		b.WriteByte('}')
		return b.String()
	}
	b.WriteByte('[')
	for i := 0; i < v.Len() && b.Len() < maxShown; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%v", v.Index(i))
	}
	b.WriteByte(']')
	return b.String()
}

// maxShown bounds what an error message repeats of a client's value.
const maxShown = 128

// clip bounds a value a client sent before a message repeats it, and
// replaces control characters.
func clip(s string) string {
	if len(s) > maxShown {
		s = s[:maxShown] + "..."
	}
	if !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == utf8.RuneError }) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return '?'
		}
		return r
	}, s)
}
