// Package state keeps boxtui's record of the containers it launched, one
// directory per name under the run dir (/run/boxtui, $BOXTUI_RUN_DIR): the
// claim of a name (a hidden directory renamed into place with
// RENAME_NOREPLACE), its state.json written atomically under a lock, and
// the records of mounts boxtui added to other engines' containers.
package state
