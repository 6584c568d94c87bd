package discovery

import (
	"os"
	"path/filepath"
	"testing"

	"boxtui/runtime/engines"
	"boxtui/runtime/state"
)

// TestNestedContainerIsNotNamedAfterItsEngineContainer: a PID namespace
// made inside a docker container (docker in docker, an unshare in it)
// shares its cgroup, so its cgroup names the same docker container; only
// the outer one gets docker's name and ID. boxtui's own containers keep
// their names, and an unshare container gets none.
func TestNestedContainerIsNotNamedAfterItsEngineContainer(t *testing.T) {
	const id = "3f1c0c6b6a1e2d3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f"
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "containers", id), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "containers", id, "config.v2.json"), []byte(`{"ID":"`+id+`","Name":"/web"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	old := engineResolver
	engineResolver = &engines.Resolver{DockerRoot: dir, DockerSocket: filepath.Join(dir, "none.sock")}
	t.Cleanup(func() { engineResolver = old })

	ref := engines.Ref{Engine: engines.Docker, Key: id}
	snap := Snapshot{Containers: []Container{
		{PID: 10, Origin: OriginDocker, Status: state.StatusRunning, engine: ref},
		{PID: 20, Origin: OriginDocker, Status: state.StatusRunning, Parent: 10, engine: ref},
		{PID: 30, Origin: OriginDocker, Status: state.StatusRunning, Parent: 20, engine: ref},
		{PID: 40, Origin: OriginBoxtui, Name: "box", Status: state.StatusRunning, engine: ref},
		{PID: 50, Origin: OriginUnshare, Status: state.StatusRunning},
	}}
	nameEngineContainers(&snap)
	want := map[int][2]string{10: {"web", id}, 20: {}, 30: {}, 40: {}, 50: {}}
	for _, c := range snap.Containers {
		if got := [2]string{c.EngineName, c.EngineID}; got != want[c.PID] {
			t.Errorf("pid %d: engine name and ID %q, want %q", c.PID, got, want[c.PID])
		}
	}
	if snap.Containers[3].DisplayName() != "box" {
		t.Errorf("boxtui container renamed: %q", snap.Containers[3].DisplayName())
	}
}
