// hook.c: exec as the engine would, plugged into the enter stage
// (runtime/enter/stage: stage.h) through its two profile hooks, which
// replace the stage's weak defaults in every binary that links this
// package (runtime/enter imports it).
//
// Records (keep in step with runtime/enter/asengine.go):
//   64  an asengine plan (asengine.Plan.Encode, parsed by bt_ase_parse)
//   65  u32 fd of a unix socket, u16 rows, u16 cols: a terminal from the
//       container's devpts, its master sent back on that socket
//
// The apply hook runs once the stage has joined every namespace, taken the
// root and working directory and become root of a joined user namespace:
// it joins the cgroups, sets up the terminal, then the credentials,
// capabilities, no_new_privs and seccomp filters; the stage then looks the
// command up and executes it.
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "asengine.h"
#include "stage.h"

#define TAG_PLAN (BX_PROFILE_FIRST + 0)
#define TAG_PTY (BX_PROFILE_FIRST + 1)

// The stage is single-threaded and runs once: static state is its own.
static struct bt_ase_profile plan;
static int have_plan, pty_sock = -1;
static struct winsize pty_size;

static int fd_ok(uint32_t fd) { return fd > BX_STAGE_STATUS_FD && fd < 65536 && fcntl((int)fd, F_GETFD) >= 0; }

int boxtui_stage_profile_record(struct bx_stage *s, uint32_t tag, const unsigned char *p, uint32_t len) {
	char err[256];
	switch (tag) {
	case TAG_PLAN:
		if (have_plan)
			return -1;
		// A plan boxtui did not write is refused like any record the
		// stage does not know ("bad config: unknown record"), before
		// anything is joined.
		if (bt_ase_parse(p, len, &plan, err, sizeof(err)) < 0)
			return -1;
		for (uint32_t i = 0; i < plan.ncgroups; i++)
			if (!fd_ok((uint32_t)plan.cgroup_fds[i]))
				return -1;
		have_plan = 1;
		s->profile = &plan;
		return 0;
	case TAG_PTY: {
		uint32_t fd;
		uint16_t rows, cols;
		if (len != 8 || pty_sock >= 0)
			return -1;
		memcpy(&fd, p, 4);
		memcpy(&rows, p + 4, 2);
		memcpy(&cols, p + 6, 2);
		if (!fd_ok(fd))
			return -1;
		pty_sock = (int)fd;
		pty_size.ws_row = rows;
		pty_size.ws_col = cols;
		return 0;
	}
	}
	return -1;
}

int boxtui_stage_apply_profile(struct bx_stage *s) {
	char err[512];
	if (have_plan && bt_ase_join_cgroups(&plan, err, sizeof(err)) < 0)
		bx_stage_fail("enter process %d as the engine would: %s", s->target, err);
	for (uint32_t i = 0; i < plan.ncgroups; i++)
		close(plan.cgroup_fds[i]);
	if (pty_sock >= 0) {
		int master, slave;
		if (bt_ase_open_pty(&master, &slave, err, sizeof(err)) < 0)
			bx_stage_fail("enter process %d as the engine would: %s", s->target, err);
		if ((pty_size.ws_row || pty_size.ws_col) && ioctl(slave, TIOCSWINSZ, &pty_size) < 0) {
			// Not fatal: boxtui sets it again on the master.
		}
		if (bt_ase_send_fd(pty_sock, master, err, sizeof(err)) < 0)
			bx_stage_fail("enter process %d as the engine would: %s", s->target, err);
		close(master);
		close(pty_sock);
		if (bt_ase_take_tty(slave, have_plan ? &plan : NULL, err, sizeof(err)) < 0)
			bx_stage_fail("enter process %d as the engine would: %s", s->target, err);
	}
	if (have_plan && bt_ase_apply(&plan, err, sizeof(err)) < 0)
		bx_stage_fail("enter process %d as the engine would: %s", s->target, err);
	return 0;
}
