package privilege

import (
	"fmt"
	"os"
)

// RequireRoot returns a clear error when boxtui is not running as root.
// action names what needs it, e.g. "run" or "exec".
func RequireRoot(action string) error {
	if os.Geteuid() == 0 {
		return nil
	}
	return fmt.Errorf("boxtui %s needs root: run it again with sudo", action)
}
