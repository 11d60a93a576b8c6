package auth

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var settings = Settings{Account: testAccount, Region: testRegion}

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "eks-api", "credentials.json"), settings)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStoreFile(t *testing.T) {
	s := openTemp(t)
	for path, want := range map[string]fs.FileMode{s.Path(): 0o600, filepath.Dir(s.Path()): 0o700 | fs.ModeDir} {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode() != want {
			t.Errorf("%s: mode %v, want %v", path, info.Mode(), want)
		}
	}
	c, err := s.Create("admin")
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(s.Path()); info.Mode() != 0o600 {
		t.Errorf("after a write: mode %v", info.Mode())
	}
	data, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]any
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	got := f["credentials"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "accessKeyId", "secretAccessKey", "arn", "createdAt"} {
		if got[k] == nil {
			t.Errorf("the file's credential lacks %q: %s", k, data)
		}
	}
	if f["account"] != testAccount || f["region"] != testRegion {
		t.Errorf("settings: %s", data)
	}
	if got["createdAt"] != c.CreatedAt.Format("2006-01-02T15:04:05Z") {
		t.Errorf("createdAt %v, not RFC 3339 of %v", got["createdAt"], c.CreatedAt)
	}
	entries, _ := os.ReadDir(filepath.Dir(s.Path()))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("a temporary file was left: %s", e.Name())
		}
	}
}

func TestStoreKeys(t *testing.T) {
	s := openTemp(t)
	c, err := s.Create("admin")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`).MatchString(c.AccessKeyID) {
		t.Errorf("access key id %q", c.AccessKeyID)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9+/]{40}$`).MatchString(c.SecretAccessKey) {
		t.Errorf("secret of %d characters", len(c.SecretAccessKey))
	}
	if c.ARN != "arn:aws:iam::111122223333:user/admin" {
		t.Errorf("ARN %q", c.ARN)
	}
	d, _ := s.Create("ci")
	if d.AccessKeyID == c.AccessKeyID || d.SecretAccessKey == c.SecretAccessKey {
		t.Error("two credentials share a key")
	}
	if got, ok := s.Lookup(c.AccessKeyID); !ok || got != c {
		t.Errorf("Lookup = %+v, %v", got, ok)
	}
	if _, ok := s.Lookup("AKIAAAAAAAAAAAAAAAAA"); ok {
		t.Error("Lookup found an unknown key")
	}
}

func TestStoreNames(t *testing.T) {
	s := openTemp(t)
	for _, tc := range []struct {
		name string
		err  string
	}{
		{"admin", ""},
		{"ci+deploy=1,a.b@c_d-e", ""},
		{strings.Repeat("a", 64), ""},
		{"", "must be 1 to 64 letters, digits and + = , . @ _ - (IAM's rule for user names)"},
		{strings.Repeat("a", 65), "must be 1 to 64"},
		{"a b", "must be 1 to 64"},
		{"a/b", "must be 1 to 64"},
		{"ünï", "must be 1 to 64"},
		{"admin", `credential "admin" already exists`},
		{"ADMIN", `credential "admin" already exists (names are unique regardless of case)`},
	} {
		_, err := s.Create(tc.name)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Create(%q) = %v, want %q", tc.name, err, tc.err)
		}
	}
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range list {
		names = append(names, c.Name)
	}
	if !slices.IsSorted(names) || len(names) != 3 {
		t.Errorf("List: %v", names)
	}
}

func TestStoreRevoke(t *testing.T) {
	s := openTemp(t)
	c, _ := s.Create("ci")
	if err := s.Revoke("ci"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Lookup(c.AccessKeyID); ok {
		t.Error("a revoked key is found")
	}
	err := s.Revoke("ci")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `credential "ci": not found`) {
		t.Errorf("revoking an unknown name: %v", err)
	}
}

func TestStoreEnsureDefault(t *testing.T) {
	s := openTemp(t)
	for i, want := range []bool{true, false} {
		created, err := s.EnsureDefault("admin")
		if err != nil || created != want {
			t.Errorf("EnsureDefault #%d = %v, %v; want %v", i+1, created, err, want)
		}
	}
	list, _ := s.List()
	if len(list) != 1 || list[0].Name != "admin" {
		t.Fatalf("List: %+v", list)
	}
	// Revoked, it stays revoked across restarts.
	if err := s.Revoke("admin"); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(s.Path(), settings)
	if err != nil {
		t.Fatal(err)
	}
	if created, err := s2.EnsureDefault("admin"); created || err != nil {
		t.Errorf("EnsureDefault after a revocation = %v, %v", created, err)
	}
}

func TestStoreSettings(t *testing.T) {
	s := openTemp(t)
	if _, err := s.Create("admin"); err != nil {
		t.Fatal(err)
	}
	other := Settings{Account: "444455556666", Region: "eu-west-1"}
	if _, err := Open(s.Path(), other); err != nil {
		t.Fatal(err)
	}
	cli, err := Load(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := cli.Settings(); got != other {
		t.Errorf("Settings = %+v, want %+v", got, other)
	}
	list, _ := cli.List()
	if list[0].ARN != "arn:aws:iam::444455556666:user/admin" {
		t.Errorf("ARN after the account changed: %s", list[0].ARN)
	}
	for _, bad := range []Settings{{Account: "1234", Region: "us-east-1"}, {Account: "12345678901a", Region: "us-east-1"}, {Account: testAccount}} {
		if _, err := Open(s.Path(), bad); err == nil {
			t.Errorf("Open with %+v: no error", bad)
		}
	}
}

func TestStoreMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials.json")
	_, err := Load(path)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "run `kdp up` first") {
		t.Errorf("Load of a missing file: %v", err)
	}
	// A store whose file went away finds nothing, and does not recreate it.
	s := openTemp(t)
	c, _ := s.Create("admin")
	if err := os.Remove(s.Path()); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Lookup(c.AccessKeyID); ok {
		t.Error("Lookup found a key of a deleted file")
	}
	if _, err := s.Create("ci"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Create without a file: %v", err)
	}
}

func TestStoreLoosePermissions(t *testing.T) {
	s := openTemp(t)
	if err := os.Chmod(s.Path(), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, open := range map[string]func() (*Store, error){
		"Open": func() (*Store, error) { return Open(s.Path(), settings) },
		"Load": func() (*Store, error) { return Load(s.Path()) },
	} {
		_, err := open()
		if err == nil || !strings.Contains(err.Error(), "has mode 0644") || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("%s of a 0644 file: %v", name, err)
		}
	}
}

func TestStoreCorruptFile(t *testing.T) {
	s := openTemp(t)
	c, _ := s.Create("admin")
	if err := os.WriteFile(s.Path(), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Lookup(c.AccessKeyID); ok {
		t.Error("Lookup found a key in a corrupt file")
	}
	if _, err := s.List(); err == nil {
		t.Error("List of a corrupt file: no error")
	}
}
