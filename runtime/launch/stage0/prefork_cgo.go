//go:build cgo

package stage0

/*
#cgo CFLAGS: -O2 -Wall -Wextra -Wno-unused-parameter
extern int boxtui_prefork_pid, boxtui_prefork_config, boxtui_prefork_report, boxtui_prefork_go, boxtui_prefork_console;
extern int boxtui_zygote_pid, boxtui_zygote_reply, boxtui_zygote_master, boxtui_zygote_ready;
extern int boxtui_own, boxtui_own_config, boxtui_own_go, boxtui_own_status, boxtui_own_alive;
*/
import "C"

import "os"

// preforked returns what prefork.c started, or pid -1.
func preforked() (pid, config, report, goPipe, console int) {
	return int(C.boxtui_prefork_pid), int(C.boxtui_prefork_config),
		int(C.boxtui_prefork_report), int(C.boxtui_prefork_go), int(C.boxtui_prefork_console)
}

// zygoteStarted returns what zygote.c left for the holder, or pid -1.
func zygoteStarted() zygote {
	return zygote{
		pid:    int(C.boxtui_zygote_pid),
		reply:  int(C.boxtui_zygote_reply),
		master: int(C.boxtui_zygote_master),
		ready:  int(C.boxtui_zygote_ready),
	}
}

// ownStarted returns what own_holder in prefork.c set up, or nil.
func ownStarted() *Own {
	if C.boxtui_own == 0 {
		return nil
	}
	return &Own{
		Config: os.NewFile(uintptr(C.boxtui_own_config), "zygote config"),
		Go:     os.NewFile(uintptr(C.boxtui_own_go), "go"),
		Alive:  os.NewFile(uintptr(C.boxtui_own_alive), "alive"),
		status: os.NewFile(uintptr(C.boxtui_own_status), "status"),
		z:      zygoteStarted(),
	}
}
