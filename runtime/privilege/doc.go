// Package privilege says, in one message, that an action needs root.
package privilege
