package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/kdp-project/kdp/internal/eks/types"
)

// printDocument writes v, an EKS API response (or kdp's own document in
// its naming), as -o json or -o yaml: the EKS API's member names, with
// times in RFC 3339 (where the wire has epoch seconds) and durations as
// strings, so that what reads `aws eks` output reads this.
func printDocument(out io.Writer, format string, v any) error {
	doc := document(reflect.ValueOf(v))
	switch format {
	case "json":
		return printJSON(out, doc)
	case "yaml":
		b, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		y, err := yaml.JSONToYAML(b)
		if err != nil {
			return err
		}
		_, err = out.Write(y)
		return err
	}
	return fmt.Errorf("-o %q: not a document format", format)
}

var (
	timestampType = reflect.TypeFor[types.Timestamp]()
	timeType      = reflect.TypeFor[time.Time]()
	durationType  = reflect.TypeFor[time.Duration]()
)

// document is v as JSON values, its structs by their JSON names (leaving
// out what omitempty leaves out), times as RFC 3339 strings and durations
// as Go duration strings.
func document(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	switch v.Type() {
	case timestampType:
		return v.Interface().(types.Timestamp).UTC().Format(time.RFC3339Nano)
	case timeType:
		t := v.Interface().(time.Time)
		if t.IsZero() {
			return nil
		}
		return t.UTC().Format(time.RFC3339Nano)
	case durationType:
		return v.Interface().(time.Duration).String()
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return document(v.Elem())
	case reflect.Struct:
		out := map[string]any{}
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fv := v.Field(i)
			if strings.Contains(opts, "omitempty") && fv.IsZero() || omitsEmpty(opts, fv) {
				continue
			}
			out[name] = document(fv)
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return []any{}
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = document(v.Index(i))
		}
		return out
	case reflect.Map:
		out := map[string]any{}
		iter := v.MapRange()
		for iter.Next() {
			out[fmt.Sprint(iter.Key().Interface())] = document(iter.Value())
		}
		return out
	}
	return v.Interface()
}

// omitsEmpty reports whether omitempty leaves out an empty list or map.
func omitsEmpty(opts string, v reflect.Value) bool {
	if !strings.Contains(opts, "omitempty") {
		return false
	}
	switch v.Kind() {
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	}
	return false
}
