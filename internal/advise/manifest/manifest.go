// Package manifest reads Kubernetes objects from manifests as `kubectl
// apply -f` takes them: files, directories (their .yaml, .yml and .json
// files, recursively, in name order) and standard input ("-"), each
// possibly of several YAML documents (Helm's rendered output, Kustomize's)
// or a v1 List. Every object keeps the file and line it starts at, so that
// what is said of it can point there; a document that cannot be read is a
// Problem at its file and line, and the others are still read.
package manifest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// Source is where an object starts: a file ("-" for standard input) and a
// line (1-based).
type Source struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// String is file:line, or the file alone when there is no line (an object
// read from a cluster, a path that could not be read).
func (s Source) String() string {
	if s.Line == 0 {
		return s.File
	}
	return s.File + ":" + strconv.Itoa(s.Line)
}

// Object is one object of a manifest: typed (an *appsv1.Deployment, a
// *corev1.Pod, …) when client-go's scheme knows its kind, else
// *unstructured.Unstructured (a custom resource).
type Object struct {
	Object runtime.Object
	Source Source
}

// Kind is the object's kind.
func (o Object) Kind() string { return o.Object.GetObjectKind().GroupVersionKind().Kind }

// Problem is a document that could not be read, or a path that could not
// be.
type Problem struct {
	Source Source
	Err    error
}

func (p Problem) Error() string { return p.Source.String() + ": " + p.Err.Error() }

// Read reads every object of the paths (stdin for "-").
func Read(paths []string, stdin io.Reader) ([]Object, []Problem) {
	var objects []Object
	var problems []Problem
	for _, path := range paths {
		if path == "-" {
			o, p := readStream("-", stdin)
			objects, problems = append(objects, o...), append(problems, p...)
			continue
		}
		files, err := filesOf(path)
		if err != nil {
			problems = append(problems, Problem{Source: Source{File: path}, Err: err})
			continue
		}
		for _, file := range files {
			f, err := os.Open(file)
			if err != nil {
				problems = append(problems, Problem{Source: Source{File: file}, Err: err})
				continue
			}
			o, p := readStream(file, f)
			f.Close()
			objects, problems = append(objects, o...), append(problems, p...)
		}
	}
	return objects, problems
}

// filesOf is path itself, or the manifests below a directory.
func filesOf(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".yaml", ".yml", ".json":
			if !d.IsDir() {
				files = append(files, p)
			}
		}
		return nil
	})
	slices.Sort(files)
	return files, err
}

// document is one YAML document of a stream and the line it starts at.
type document struct {
	data []byte
	line int
}

// separator is a YAML document separator line.
var separator = regexp.MustCompile(`^---(\s|$)`)

// documents splits a stream into its YAML documents; a document's line is
// that of its first line that is neither blank nor a comment.
func documents(r io.Reader) ([]document, error) {
	var docs []document
	var cur bytes.Buffer
	start, n := 0, 0
	flush := func() {
		if start > 0 {
			docs = append(docs, document{data: bytes.Clone(cur.Bytes()), line: start})
		}
		cur.Reset()
		start = 0
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for sc.Scan() {
		n++
		line := sc.Text()
		if separator.MatchString(line) {
			flush()
			continue
		}
		if trimmed := strings.TrimSpace(line); start == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if start == 0 {
			start = n
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	flush()
	return docs, sc.Err()
}

func readStream(file string, r io.Reader) ([]Object, []Problem) {
	docs, err := documents(r)
	if err != nil {
		return nil, []Problem{{Source: Source{File: file}, Err: err}}
	}
	var objects []Object
	var problems []Problem
	for _, d := range docs {
		src := Source{File: file, Line: d.line}
		objs, err := decode(d.data)
		if err != nil {
			problems = append(problems, Problem{Source: Source{File: file, Line: d.line + lineIn(err) - 1}, Err: err})
			continue
		}
		for _, o := range objs {
			objects = append(objects, Object{Object: o, Source: src})
		}
	}
	return objects, problems
}

// yamlLine finds the line a YAML error names ("yaml: line 3: ...").
var yamlLine = regexp.MustCompile(`line (\d+)`)

// lineIn is the line of a document an error is at (1 if it names none).
func lineIn(err error) int {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		if n, _ := strconv.Atoi(m[1]); n > 0 {
			return n
		}
	}
	return 1
}

// decode reads one document: an object, or the items of a List.
func decode(data []byte) ([]runtime.Object, error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	var head struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Items      []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(js, &head); err != nil {
		return nil, errors.New("not a Kubernetes object: a document is a mapping with apiVersion and kind")
	}
	if head.Kind == "List" || (strings.HasSuffix(head.Kind, "List") && head.Items != nil) {
		var out []runtime.Object
		for i, item := range head.Items {
			o, err := typed(item)
			if err != nil {
				return nil, fmt.Errorf("items[%d]: %w", i, err)
			}
			out = append(out, o)
		}
		return out, nil
	}
	o, err := typed(js)
	if err != nil {
		return nil, err
	}
	return []runtime.Object{o}, nil
}

// typed decodes an object (JSON) into its Go type when client-go's scheme
// knows its kind, else as unstructured.
func typed(js []byte) (runtime.Object, error) {
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(js, &meta); err != nil || meta.APIVersion == "" || meta.Kind == "" {
		return nil, errors.New("not a Kubernetes object: it has no apiVersion and kind")
	}
	gvk := schema.FromAPIVersionAndKind(meta.APIVersion, meta.Kind)
	if !scheme.Scheme.Recognizes(gvk) {
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(js); err != nil {
			return nil, err
		}
		return u, nil
	}
	o, err := scheme.Scheme.New(gvk)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(js, o); err != nil {
		return nil, fmt.Errorf("%s %q: %w", gvk.Kind, meta.Metadata.Name, err)
	}
	o.GetObjectKind().SetGroupVersionKind(gvk)
	return o, nil
}
