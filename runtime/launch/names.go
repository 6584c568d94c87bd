// Generated container names (amber-otter), claimed like given ones.

package launch

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"boxtui/runtime/state"
)

var adjectives = []string{
	"amber", "brave", "calm", "dusty", "eager", "fuzzy", "gentle", "happy", "icy", "jolly",
	"keen", "lucky", "misty", "nimble", "odd", "plucky", "quiet", "rapid", "shy", "tidy",
	"upbeat", "vivid", "witty", "young", "zesty",
}

var nouns = []string{
	"otter", "badger", "crane", "dingo", "egret", "ferret", "gecko", "heron", "ibis", "jackal",
	"koala", "lemur", "marmot", "newt", "ocelot", "panda", "quail", "raven", "stoat", "tapir",
	"urchin", "vole", "walrus", "yak", "zebra",
}

// claimGeneratedName picks a short memorable name and claims it; after a few
// collisions it falls back to random hex, which does not collide in practice.
func claimGeneratedName(st state.State) (string, error) {
	var b [4]byte
	for i := 0; i < 16; i++ {
		rand.Read(b[:])
		if i < 8 {
			st.Name = adjectives[int(b[0])%len(adjectives)] + "-" + nouns[int(b[1])%len(nouns)]
		} else {
			st.Name = "box-" + hex.EncodeToString(b[:])
		}
		err := state.Create(st)
		if err == nil {
			return st.Name, nil
		}
		if !errors.Is(err, state.ErrNameTaken) {
			return "", err
		}
	}
	return "", fmt.Errorf("pick a container name: every try was taken; pass --name")
}
