// Package auth authenticates requests to kdp's EKS-compatible API: the
// access keys it issues (a file in the data dir, shared by the running
// server and the kdp CLI) and the SigV4 verification of each request.
package auth

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Credential is an access key of the EKS API, named like an IAM user.
type Credential struct {
	Name        string `json:"name"`
	AccessKeyID string `json:"accessKeyId"`
	// SecretAccessKey is left out of JSON when empty, so that a listing can
	// blank it.
	SecretAccessKey string    `json:"secretAccessKey,omitempty"`
	ARN             string    `json:"arn"`
	CreatedAt       time.Time `json:"createdAt"`
}

// Settings are what the credentials file records beside the keys, written
// by `kdp up` and read back by the CLI, which therefore needs no flags for
// them.
type Settings struct {
	// Account is the 12-digit account id of the users' ARNs.
	Account string `json:"account"`
	// Region is the region the EKS API serves, and the one requests must
	// be signed for.
	Region string `json:"region"`
}

func (s Settings) validate() error {
	if len(s.Account) != 12 || strings.Trim(s.Account, "0123456789") != "" {
		return fmt.Errorf("account id %q: must be 12 digits", s.Account)
	}
	if s.Region == "" {
		return errors.New("region: required")
	}
	return nil
}

// file is the credentials file's content.
type file struct {
	Settings
	// DefaultIssued records that EnsureDefault created its credential, so
	// that a revoked default stays revoked across restarts.
	DefaultIssued bool         `json:"defaultIssued,omitempty"`
	Credentials   []Credential `json:"credentials"`
}

// snapshot is the file as last read, with what identifies that version of
// it: the rename of every write gives each version an inode of its own.
type snapshot struct {
	file  file
	byKey map[string]Credential
	info  os.FileInfo // nil: there was no file (or no readable one)
}

// Store is the credentials file. Every method reads the file's current
// version, so a Store sees what other processes (the kdp CLI beside a
// running kdp up) wrote. Writes are atomic (a temporary file renamed over
// the old one) and serialised between processes by an flock on a lock file
// beside it.
//
// Lookup, on every request's path, costs a stat(2) when nothing changed:
// the file is read again only when its inode, size or mtime differ from
// the version in memory, so a revocation takes effect at the next request.
type Store struct {
	path   string
	snap   atomic.Pointer[snapshot]
	reload sync.Mutex
}

// ErrNotFound is wrapped by Revoke's error for an unknown name.
var ErrNotFound = errors.New("not found")

// Open opens the credentials file at path for a running EKS API, creating
// it (mode 0600, in a directory of mode 0700) if it does not exist, and
// records s in it: the account of the ARNs (existing credentials' ARNs are
// rewritten if it changed) and the region.
//
// Open refuses a file that others can read or write: its keys may have
// leaked, so kdp does not quietly tighten it; the error says what to do.
func Open(path string, s Settings) (*Store, error) {
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("credentials file %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("credentials file: %w", err)
	}
	st := &Store{path: path}
	err := st.update(true, func(f *file) (bool, error) {
		if f.Settings == s {
			return false, nil
		}
		f.Settings = s
		for i := range f.Credentials {
			f.Credentials[i].ARN = arn(s.Account, f.Credentials[i].Name)
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// Load opens an existing credentials file, as the kdp CLI does. If there is
// none, the error wraps fs.ErrNotExist: `kdp up` creates it.
func Load(path string) (*Store, error) {
	st := &Store{path: path}
	if _, err := st.load(); err != nil {
		return nil, err
	}
	return st, nil
}

// Path is the credentials file's path.
func (s *Store) Path() string { return s.path }

// Settings returns the settings recorded in the file.
func (s *Store) Settings() (Settings, error) {
	snap, err := s.load()
	if err != nil {
		return Settings{}, err
	}
	return snap.file.Settings, nil
}

// EnsureDefault creates the credential name if no default credential was
// ever created, and reports whether it did. Once created it is never
// created again, even after a revocation: revoking it is the way to lock
// the default out.
func (s *Store) EnsureDefault(name string) (created bool, err error) {
	if err := validName(name); err != nil {
		return false, err
	}
	err = s.update(false, func(f *file) (bool, error) {
		if f.DefaultIssued {
			return false, nil
		}
		if _, err := f.add(name); err != nil {
			return false, err
		}
		f.DefaultIssued, created = true, true
		return true, nil
	})
	return created, err
}

// Create issues a new access key named name. Names follow IAM's rules for
// user names, and like IAM's they are unique regardless of case.
func (s *Store) Create(name string) (Credential, error) {
	if err := validName(name); err != nil {
		return Credential{}, err
	}
	var c Credential
	err := s.update(false, func(f *file) (bool, error) {
		var err error
		c, err = f.add(name)
		return err == nil, err
	})
	return c, err
}

// List returns the credentials, sorted by name, secrets included.
func (s *Store) List() ([]Credential, error) {
	snap, err := s.load()
	if err != nil {
		return nil, err
	}
	return slices.Clone(snap.file.Credentials), nil
}

// Revoke deletes the credential name: requests signed with its key fail
// from then on.
func (s *Store) Revoke(name string) error {
	return s.update(false, func(f *file) (bool, error) {
		i := slices.IndexFunc(f.Credentials, func(c Credential) bool { return c.Name == name })
		if i < 0 {
			return false, fmt.Errorf("credential %q: %w (kdp credentials list shows them)", name, ErrNotFound)
		}
		f.Credentials = slices.Delete(f.Credentials, i, i+1)
		return true, nil
	})
}

// Lookup returns the credential of an access key id. It fails closed: if
// the file cannot be read or parsed, no key is found.
func (s *Store) Lookup(accessKeyID string) (Credential, bool) {
	snap, err := s.load()
	if err != nil {
		return Credential{}, false
	}
	c, ok := snap.byKey[accessKeyID]
	return c, ok
}

// load returns the current version of the file, reading it again only if
// it changed since the last read.
func (s *Store) load() (*snapshot, error) {
	info, statErr := os.Stat(s.path)
	if old := s.snap.Load(); old != nil && same(old.info, info) {
		return old, nil
	}
	s.reload.Lock()
	defer s.reload.Unlock()
	if old := s.snap.Load(); old != nil && same(old.info, info) {
		return old, nil
	}
	if statErr != nil {
		s.snap.Store(&snapshot{})
		return nil, s.errNoFile(statErr)
	}
	if err := checkMode(s.path, info); err != nil {
		s.snap.Store(&snapshot{})
		return nil, err
	}
	snap, err := read(s.path)
	if err != nil {
		s.snap.Store(&snapshot{})
		return nil, err
	}
	s.snap.Store(snap)
	return snap, nil
}

func (s *Store) errNoFile(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no EKS API credentials (%s is missing): run `kdp up` first: %w", s.path, err)
	}
	return fmt.Errorf("credentials file: %w", err)
}

// same reports whether two stats are of the same version of the file.
func same(a, b os.FileInfo) bool {
	if a == nil || b == nil {
		return false
	}
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

func checkMode(path string, info os.FileInfo) error {
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("credentials file %s has mode %04o: others may have read its secret keys; "+
			"run `chmod 600 %s` and consider revoking the keys (kdp credentials revoke)", path, perm, path)
	}
	return nil
}

// read reads and parses the file, the stat taken on the open file so that it
// belongs to the version read.
func read(path string) (*snapshot, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("credentials file: %w", err)
	}
	defer fh.Close()
	info, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("credentials file: %w", err)
	}
	snap := &snapshot{info: info, byKey: map[string]Credential{}}
	if err := json.NewDecoder(fh).Decode(&snap.file); err != nil {
		return nil, fmt.Errorf("credentials file %s: %w", path, err)
	}
	for _, c := range snap.file.Credentials {
		snap.byKey[c.AccessKeyID] = c
	}
	return snap, nil
}

// update runs change on the file's current content under the lock and
// writes the result if change says it changed anything. A missing file
// starts empty if create, else it is an error.
func (s *Store) update(create bool, change func(*file) (bool, error)) error {
	unlock, err := lock(s.path + ".lock")
	if err != nil {
		return err
	}
	defer unlock()
	var f file
	snap, err := s.load()
	switch {
	case err == nil:
		f = snap.file
		f.Credentials = slices.Clone(f.Credentials)
	case create && errors.Is(err, fs.ErrNotExist):
	default:
		return err
	}
	changed, err := change(&f)
	if err != nil || (!changed && snap != nil) {
		return err
	}
	if err := f.Settings.validate(); err != nil {
		return fmt.Errorf("credentials file %s: %w", s.path, err)
	}
	slices.SortFunc(f.Credentials, func(a, b Credential) int { return strings.Compare(a.Name, b.Name) })
	if err := writeAtomic(s.path, f); err != nil {
		return err
	}
	s.snap.Store(nil) // the next load reads what was written
	_, err = s.load()
	return err
}

func lock(path string) (unlock func(), err error) {
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking the credentials file: %w", err)
	}
	if err := syscall.Flock(int(fh.Fd()), syscall.LOCK_EX); err != nil {
		_ = fh.Close()
		return nil, fmt.Errorf("locking the credentials file: %w", err)
	}
	return func() { _ = fh.Close() }, nil
}

func writeAtomic(path string, f file) error {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing the credentials file: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("writing the credentials file: %w", err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("writing the credentials file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("writing the credentials file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing the credentials file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing the credentials file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// add issues a credential named name.
func (f *file) add(name string) (Credential, error) {
	for _, c := range f.Credentials {
		if strings.EqualFold(c.Name, name) {
			return Credential{}, fmt.Errorf("credential %q already exists (names are unique regardless of case)", c.Name)
		}
	}
	c := Credential{Name: name, ARN: arn(f.Account, name), CreatedAt: time.Now().UTC().Truncate(time.Second)}
	for {
		c.AccessKeyID = newAccessKeyID()
		if !slices.ContainsFunc(f.Credentials, func(o Credential) bool { return o.AccessKeyID == c.AccessKeyID }) {
			break
		}
	}
	c.SecretAccessKey = newSecret()
	f.Credentials = append(f.Credentials, c)
	return c, nil
}

func arn(account, name string) string { return "arn:aws:iam::" + account + ":user/" + name }

var nameRE = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,64}$`)

func validName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("credential name %q: must be 1 to 64 letters, digits and + = , . @ _ - (IAM's rule for user names)", name)
	}
	return nil
}

// newAccessKeyID returns an id shaped like AWS's long-term keys: AKIA and
// 16 characters of base32's alphabet (A-Z, 2-7), 80 random bits.
func newAccessKeyID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return "AKIA" + base32.StdEncoding.EncodeToString(b)
}

// newSecret returns 40 characters of base64, 240 random bits, like AWS's
// secret access keys.
func newSecret() string {
	b := make([]byte, 30)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
