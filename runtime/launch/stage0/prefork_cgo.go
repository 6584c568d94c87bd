//go:build cgo

package stage0

/*
#cgo CFLAGS: -O2 -Wall -Wextra -Wno-unused-parameter
extern int boxtui_prefork_pid, boxtui_prefork_config, boxtui_prefork_report, boxtui_prefork_go;
*/
import "C"

// preforked returns what prefork.c started, or pid -1.
func preforked() (pid, config, report, goPipe int) {
	return int(C.boxtui_prefork_pid), int(C.boxtui_prefork_config),
		int(C.boxtui_prefork_report), int(C.boxtui_prefork_go)
}
