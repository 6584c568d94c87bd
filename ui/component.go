package ui

// The UI is a tree of components in the bubbles way (the tree is drawn in
// docs/architecture.md). Each component is a value type that owns its
// state, its part of the key map and its help, and has
//
//   - update(msg, ...) (T, keyResult): its own keys, on its own state only;
//     what it cannot do alone (open a form, ask a question, start a pane,
//     move the list) it says in the keyResult and the root does it;
//   - view(..., focused bool, width, height) string: drawn from its state
//     and what the root passes down, never from the root's fields;
//   - help() help.KeyMap: the keys shown in the help bar while it has the
//     focus.
//
// The root (Model) keeps the host's last scan, the focus and the layout,
// routes every message to the component it is for, and turns keyResults
// into actions. Focus is one field of the root (focusArea, with the detail
// mode saying which detail component): a component learns whether it has
// the focus only from the root, so a panel on screen and where the keys go
// cannot disagree.

// keyResult is what a component did with a key.
type keyResult int

const (
	// keyIgnored: not the component's key; the root goes on with it.
	keyIgnored keyResult = iota
	// keyHandled: the component changed its own state, nothing else.
	keyHandled
	// keyMoved: its cursor moved onto another item the root may follow
	// (the tree's cursor selects that container in the list).
	keyMoved
	// keyBack: leave this view; the list takes the focus.
	keyBack
)
