package engines

import (
	"testing"

	"boxtui/internal/testutil"
)

// A host PID as TARGET names that process, not its PID namespace's init
// (nsenter -t PID). Two real cases where they differ, in docker and
// podman: a process the engine's exec started with mount and UTS
// namespaces of its own (unshare -m -u), and a second container that
// shares the first one's PID namespace (--pid container:FIRST), whose
// init is the first container's. exec and mount by such a PID must land
// in its namespaces: its host name, and a mount that shows there and not
// in the init's mount namespace.
func TestExecAndMountByHostPID(t *testing.T) {
	for _, s := range []struct {
		engine string
		start  func(t *testing.T, name string, args []string, cmd ...string) *testutil.EngineContainer
	}{
		{"docker", func(t *testing.T, name string, args []string, cmd ...string) *testutil.EngineContainer {
			return testutil.StartDocker(t, name, args, cmd...)
		}},
		{"podman", func(t *testing.T, name string, args []string, cmd ...string) *testutil.EngineContainer {
			return testutil.StartPodman(t, name, args, cmd...)
		}},
	} {
		t.Run(s.engine, func(t *testing.T) {
			t.Parallel()
			// unshare and hostname inside need CAP_SYS_ADMIN, and the
			// engines' default seccomp profiles refuse unshare without it.
			first := s.start(t, testutil.EngineName("first-"+s.engine),
				[]string{"--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined"}, "/bin/sleep", "1000")
			ownHost := testutil.EngineName("own-" + s.engine)
			own := first.ExecDetached(t, []string{"/bin/sleep", "1001"},
				"unshare", "--mount", "--uts", "/bin/sh", "-c", "hostname "+ownHost+" && exec /bin/sleep 1001")
			second := s.start(t, testutil.EngineName("second-"+s.engine),
				[]string{"--pid", "container:" + first.Name}, "/bin/sleep", "1002")
			if innerPID(t, second.PID) == 1 {
				t.Fatalf("%s is PID 1 of its PID namespace: --pid container:%s did not share %s's", second, first.Name, first.Name)
			}

			t.Run("unshared", func(t *testing.T) {
				b := newCLI(t)
				execHostname(t, b, first, own, ownHost)
				mountRoundTrip(t, b, first, own, first.PID)
			})
			t.Run("pid-container", func(t *testing.T) {
				b := newCLI(t)
				execHostname(t, b, second, second.PID, second.Hostname)
				mountRoundTrip(t, b, second, second.PID, first.PID)
			})
			// The init itself is still entered as the init.
			t.Run("init", func(t *testing.T) {
				b := newCLI(t)
				execHostname(t, b, first, first.PID, first.Hostname)
			})
		})
	}
}
