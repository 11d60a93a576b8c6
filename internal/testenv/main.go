package testenv

import (
	"fmt"
	"os"
	"testing"
)

// Main runs a test package against one shared control plane: call it from
// TestMain. It stores the running Env in *env before the tests run, and
// calls each cleanup after them, before the control plane stops (to stop
// controllers the tests started, say).
//
//	var env *testenv.Env
//	func TestMain(m *testing.M) { testenv.Main(m, &env) }
func Main(m *testing.M, env **Env, cleanups ...func()) {
	os.Exit(run(m, env, cleanups))
}

func run(m *testing.M, env **Env, cleanups []func()) int {
	e, err := Start(Options{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "testenv: starting kdp: %v\n", err)
		return 1
	}
	*env = e
	code := m.Run()
	for _, c := range cleanups {
		c()
	}
	if err := e.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: stopping kdp: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	e.Cleanup()
	return code
}
