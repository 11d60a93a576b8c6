// Package shorthand reads the aws CLI's shorthand syntax for structure
// parameters (`minSize=1,maxSize=3`, `addOrUpdateLabels={a=b},removeLabels=c,d`,
// `key=k,value=v,effect=NO_SCHEDULE`) or JSON, into the Go type of the
// EKS request member, so that kdp's flags take what `aws eks` takes.
//
// The grammar is the aws CLI's (awscli/shorthand.py): a structure is
// comma-separated key=value pairs; a value is a scalar, a {structure} or
// a [list]; a key given a bare list (removeLabels=c,d) takes the values up
// to the next key=. Scalars are converted by the target's type (numbers,
// booleans, strings), and keys are checked against its JSON names, so a
// typo names the members there are.
package shorthand

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Parse reads s (shorthand, or JSON if it starts with { or [, as the aws
// CLI takes it) into out, a pointer to a struct, map or slice of the
// request's types.
func Parse(s string, out any) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return fmt.Errorf("empty value")
	}
	if s[0] == '{' || s[0] == '[' {
		// JSON, as the aws CLI reads a value that starts so.
		d := json.NewDecoder(strings.NewReader(s))
		d.DisallowUnknownFields()
		if err := d.Decode(out); err != nil {
			return fmt.Errorf("JSON: %w", err)
		}
		return nil
	}
	p := &parser{s: s}
	v := reflect.ValueOf(out).Elem()
	var node any
	var err error
	if v.Kind() == reflect.Slice && v.Type().Elem().Kind() != reflect.Struct && v.Type().Elem().Kind() != reflect.Map {
		node, err = p.list(false)
	} else {
		node, err = p.structure(false)
	}
	if err != nil {
		return err
	}
	if p.i < len(p.s) {
		return fmt.Errorf("unexpected %q at offset %d", p.s[p.i:], p.i)
	}
	return assign(v, node, "")
}

// parser is a cursor over shorthand text. Nodes are string, []any and
// pairs (a structure, in order).
type parser struct {
	s string
	i int
}

type pair struct {
	key   string
	value any
}

// structure reads key=value pairs up to the end, or up to } if nested.
func (p *parser) structure(nested bool) ([]pair, error) {
	var out []pair
	for {
		p.space()
		if nested && p.peek('}') {
			p.i++
			return out, nil
		}
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		p.space()
		var value any
		switch {
		case p.peek('{'):
			p.i++
			if value, err = p.structure(true); err != nil {
				return nil, err
			}
		case p.peek('['):
			p.i++
			if value, err = p.list(true); err != nil {
				return nil, err
			}
		default:
			// A bare value, and the values after it up to the next key=,
			// make a list (removeLabels=a,b,c).
			vals := []string{p.scalar()}
			for p.peek(',') && !p.keyAhead() {
				p.i++
				vals = append(vals, p.scalar())
			}
			if len(vals) == 1 {
				value = vals[0]
			} else {
				value = anyList(vals)
			}
		}
		out = append(out, pair{key, value})
		p.space()
		switch {
		case p.i == len(p.s) && !nested:
			return out, nil
		case p.i == len(p.s):
			return nil, fmt.Errorf("missing } at the end")
		case nested && p.peek('}'):
			p.i++
			return out, nil
		case p.peek(','):
			p.i++
		default:
			return nil, fmt.Errorf("expected , at offset %d, found %q", p.i, p.s[p.i:])
		}
	}
}

// list reads comma-separated values up to the end, or up to ] if nested.
func (p *parser) list(nested bool) ([]any, error) {
	var out []any
	for {
		p.space()
		if nested && p.peek(']') {
			p.i++
			return out, nil
		}
		if p.i == len(p.s) {
			if nested {
				return nil, fmt.Errorf("missing ] at the end")
			}
			return out, nil
		}
		var v any
		var err error
		if p.peek('{') {
			p.i++
			if v, err = p.structure(true); err != nil {
				return nil, err
			}
		} else {
			v = p.scalar()
		}
		out = append(out, v)
		p.space()
		switch {
		case p.peek(','):
			p.i++
		case nested && p.peek(']'):
		case !nested && p.i == len(p.s):
		default:
			return nil, fmt.Errorf("expected , at offset %d, found %q", p.i, p.s[p.i:])
		}
	}
}

func (p *parser) key() (string, error) {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != '=' && !strings.ContainsRune(",{}[]", rune(p.s[p.i])) {
		p.i++
	}
	key := strings.TrimSpace(p.s[start:p.i])
	if key == "" || !p.peek('=') {
		return "", fmt.Errorf("expected key=value at offset %d, found %q", start, p.s[start:])
	}
	p.i++
	return key, nil
}

// keyAhead reports whether a key= follows the comma at the cursor.
func (p *parser) keyAhead() bool {
	rest := p.s[p.i+1:]
	end := strings.IndexAny(rest, ",{}[]")
	if end < 0 {
		end = len(rest)
	}
	return strings.Contains(rest[:end], "=")
}

// scalar reads a value up to a delimiter; quotes ('…' or "…") or a
// backslash keep delimiters in it.
func (p *parser) scalar() string {
	p.space()
	if p.i < len(p.s) && (p.s[p.i] == '"' || p.s[p.i] == '\'') {
		q := p.s[p.i]
		if end := strings.IndexByte(p.s[p.i+1:], q); end >= 0 {
			v := p.s[p.i+1 : p.i+1+end]
			p.i += end + 2
			return v
		}
	}
	var b strings.Builder
	for p.i < len(p.s) && !strings.ContainsRune(",}]", rune(p.s[p.i])) {
		if p.s[p.i] == '\\' && p.i+1 < len(p.s) {
			p.i++ // a backslash keeps the next character, a delimiter too
		}
		b.WriteByte(p.s[p.i])
		p.i++
	}
	return strings.TrimSpace(b.String())
}

func (p *parser) peek(c byte) bool { return p.i < len(p.s) && p.s[p.i] == c }

func (p *parser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func anyList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// assign sets v from a parsed node, converting scalars by v's type; path
// names where it is, for errors.
func assign(v reflect.Value, node any, path string) error {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return assign(v.Elem(), node, path)
	}
	switch v.Kind() {
	case reflect.Struct:
		pairs, ok := node.([]pair)
		if !ok {
			return fmt.Errorf("%sexpected a structure (key=value,...), got %v", at(path), node)
		}
		fields := members(v.Type())
		for _, kv := range pairs {
			i, ok := fields[kv.key]
			if !ok {
				return fmt.Errorf("%sunknown member %q: the members are %s", at(path), kv.key, strings.Join(sortedKeys(fields), ", "))
			}
			if err := assign(v.Field(i), kv.value, join(path, kv.key)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		pairs, ok := node.([]pair)
		if !ok {
			return fmt.Errorf("%sexpected key=value pairs, got %v", at(path), node)
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		for _, kv := range pairs {
			e := reflect.New(v.Type().Elem()).Elem()
			if err := assign(e, kv.value, join(path, kv.key)); err != nil {
				return err
			}
			v.SetMapIndex(reflect.ValueOf(kv.key).Convert(v.Type().Key()), e)
		}
		return nil
	case reflect.Slice:
		items, ok := node.([]any)
		if !ok {
			items = []any{node} // one value is a list of one
		}
		s := reflect.MakeSlice(v.Type(), len(items), len(items))
		for i, item := range items {
			at := path
			if ok {
				at = fmt.Sprintf("%s[%d]", path, i)
			}
			if err := assign(s.Index(i), item, at); err != nil {
				return err
			}
		}
		v.Set(reflect.AppendSlice(v, s))
		return nil
	}
	str, ok := node.(string)
	if !ok {
		return fmt.Errorf("%sexpected a value, got a structure or list", at(path))
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(str)
	case reflect.Bool:
		b, err := strconv.ParseBool(str)
		if err != nil {
			return fmt.Errorf("%s%q is not true or false", at(path), str)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(str, 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%s%q is not a whole number", at(path), str)
		}
		v.SetInt(n)
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(str, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%s%q is not a number", at(path), str)
		}
		v.SetFloat(n)
	default:
		return fmt.Errorf("%scannot set a %s", at(path), v.Kind())
	}
	return nil
}

// members are a struct's members by JSON name (the EKS API's).
func members(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = i
	}
	return out
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func at(path string) string {
	if path == "" {
		return ""
	}
	return path + ": "
}
