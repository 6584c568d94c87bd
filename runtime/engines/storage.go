package engines

import (
	"encoding/json"
	"os"
	"strings"
)

// maxStorageJSON bounds containers/storage's containers.json, which lists
// every container of the store (a few hundred bytes each).
const maxStorageJSON = 64 << 20

// ParseStorageContainers reads containers/storage's containers.json (or
// volatile-containers.json): container ID to its first name. Podman keeps
// the names there in step with its own (`podman rename` rewrites them);
// CRI-O names its containers k8s_CONTAINER_POD_NAMESPACE_UID_ATTEMPT.
func ParseStorageContainers(data []byte) (map[string]string, error) {
	var list []struct {
		ID    string   `json:"id"`
		Names []string `json:"names"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, err
	}
	names := make(map[string]string, len(list))
	for _, c := range list {
		if isID(c.ID) && len(c.Names) > 0 {
			names[c.ID] = c.Names[0]
		}
	}
	return names, nil
}

// fromStorage names a podman or CRI-O container from the containers.json
// of each storage driver's directory (overlay-containers,
// vfs-containers...) under the graph root, and the volatile lists under
// the graph and run roots.
func (r *Resolver) fromStorage(id string) Identity {
	if !isID(id) {
		return Identity{}
	}
	for _, root := range []string{r.StorageRoot, r.StorageRun} {
		ents, err := os.ReadDir(root)
		if err != nil {
			continue
		}
		for _, e := range ents {
			d := e.Name()
			if !e.IsDir() || !strings.HasSuffix(d, "-containers") {
				continue
			}
			files := []string{d + "/containers.json", d + "/volatile-containers.json"}
			if root == r.StorageRun {
				files = files[1:]
			}
			for _, f := range files {
				v, err := r.stateFile(root, f, maxStorageJSON, func(b []byte) (any, error) {
					return ParseStorageContainers(b)
				})
				if err != nil {
					continue
				}
				if n, ok := v.(map[string]string)[id]; ok {
					return Identity{Name: n, ID: id}
				}
			}
		}
	}
	return Identity{ID: id}
}
