package eksapi

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Endpoint is where a running kdp serves its EKS API, as `kdp up` writes
// it to cluster.Layout.EKSEndpoint() for `kdp env` and other clients.
type Endpoint struct {
	// URL is http://HOST:PORT or https://HOST:PORT.
	URL string
	// CABundle is the file of the CA that signed the server's
	// certificate (https only): AWS_CA_BUNDLE.
	CABundle string
}

// WriteEndpoint writes e to path (0644, atomically): the URL on the first
// line and, for https, the CA bundle's path on the second.
func WriteEndpoint(path string, e Endpoint) error {
	data := e.URL + "\n"
	if e.CABundle != "" {
		data += e.CABundle + "\n"
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".endpoint-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// ReadEndpoint reads what WriteEndpoint wrote. A missing file's error
// wraps fs.ErrNotExist (no kdp up ran with the EKS API).
func ReadEndpoint(path string) (Endpoint, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Endpoint{}, err
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	e := Endpoint{URL: strings.TrimSpace(lines[0])}
	if len(lines) > 1 {
		e.CABundle = strings.TrimSpace(lines[1])
	}
	if !strings.HasPrefix(e.URL, "http://") && !strings.HasPrefix(e.URL, "https://") {
		return Endpoint{}, fmt.Errorf("%s: %q is not an http(s) URL", path, e.URL)
	}
	return e, nil
}
