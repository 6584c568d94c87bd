package engines

import (
	"encoding/json"
	"os"
)

// maxOCIConfig bounds an OCI bundle's config.json.
const maxOCIConfig = 8 << 20

// ParseCRIBundleConfig names a Kubernetes container from the annotations
// the CRI plugin of containerd puts in its OCI bundle's config.json: a pod
// sandbox (its pause container) by the pod's name, any other container as
// POD/CONTAINER. The ID is the bundle's, given by the caller.
func ParseCRIBundleConfig(data []byte) (string, error) {
	var spec struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		return "", err
	}
	a := spec.Annotations
	pod := a["io.kubernetes.cri.sandbox-name"]
	if a["io.kubernetes.cri.container-type"] == "sandbox" {
		return pod, nil
	}
	name := a["io.kubernetes.cri.container-name"]
	switch {
	case name == "":
		return pod, nil
	case pod == "":
		return name, nil
	}
	return pod + "/" + name, nil
}

// fromContainerd names a container of containerd's CRI plugin from its
// task's bundle, RUN/NAMESPACE/ID/config.json (k8s.io is the namespace the
// CRI plugin uses; every namespace is looked at).
func (r *Resolver) fromContainerd(id string) Identity {
	if !isID(id) {
		return Identity{}
	}
	for _, root := range r.ContainerdRun {
		ents, err := os.ReadDir(root)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if !e.IsDir() {
				continue
			}
			v, err := r.stateFile(root, e.Name()+"/"+id+"/config.json", maxOCIConfig, func(b []byte) (any, error) {
				return ParseCRIBundleConfig(b)
			})
			if err == nil {
				return Identity{Name: v.(string), ID: id}
			}
		}
	}
	return Identity{ID: id}
}
