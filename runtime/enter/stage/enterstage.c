// enterstage.c: the enter stage, `boxtui __boxtui-enter`, before the Go
// runtime starts.
//
// The kernel lets only a single-threaded process join a user or a time
// namespace, and a Go program has threads before its first line runs. So
// every exec that Go starts (a terminal, -t, --new-mount-proc, the UI's
// pane) goes through this stage: boxtui opens the target's namespaces,
// root and working directory from the host and checks them against the
// target's pidfd and start time (nsjoin.Open), joins only the PID
// namespace on a throwaway thread (setns(pid) applies to children only),
// and starts its own sealed binary with argv[1] = "__boxtui-enter", the
// handles as inherited descriptors and a config block on fd 3. The stage,
// born inside the PID namespace, joins the others (user last: join.h),
// takes root and working directory, becomes root of the user namespace,
// lets a profile apply (stage.h), looks the command up and executes it
// in place: the command keeps the stage's PID, so boxtui waits for it and
// signals it as its own child.
//
// Everything it acts on comes from its parent, a root boxtui process: the
// block is parsed as if hostile anyway (bounded, every record checked, an
// unknown one refused before anything is joined). Inside, everything is
// the container's: paths are resolved only after the chroot, no fd but
// stdio reaches the command (close_range), and the process is
// non-dumpable from before its first setns until the exec.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "containerenv.h" // runtime/containerenv: the PATH and its lookup
#include "join.h"
#include "stage.h"

// Keep in step with runtime/enter (errCwdOutside, errNoShell).
#define CWD_OUTSIDE "working directory is outside the container's root: refusing to start there (a process there could reach the host's files)"
#define NO_SHELL "no shell in the container (neither /bin/bash nor /bin/sh): give a command after --"
// The block holds argv and environment: allow what execve could take.
#define MAX_BLOCK (4 << 20)

__attribute__((weak)) int boxtui_stage_profile_record(struct bx_stage *s, uint32_t tag, const unsigned char *p, uint32_t len) {
	(void)s, (void)tag, (void)p, (void)len;
	return -1;
}

__attribute__((weak)) int boxtui_stage_apply_profile(struct bx_stage *s) {
	(void)s;
	return 0;
}

static void status_write(const char *kind, const char *msg) {
	size_t kl = strlen(kind), ml = strlen(msg);
	char buf[4096];
	if (kl + 1 + ml > sizeof(buf))
		ml = sizeof(buf) - kl - 1;
	memcpy(buf, kind, kl);
	buf[kl] = '\n';
	memcpy(buf + kl + 1, msg, ml);
	size_t n = kl + 1 + ml, off = 0;
	while (off < n) {
		ssize_t w = write(BX_STAGE_STATUS_FD, buf + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

void bx_stage_fail(const char *fmt, ...) {
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	status_write("error", msg);
	_exit(1);
}

__attribute__((noreturn)) static void not_found(const char *cmd) {
	status_write("notfound", cmd);
	_exit(127);
}

// errstr is strerror in lower case, as Go prints errnos.
static const char *errstr(int e) {
	static char buf[128];
	snprintf(buf, sizeof(buf), "%s", strerror(e));
	if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

static const char *ns_name(int flag) {
	switch (flag) {
	case CLONE_NEWUSER:
		return "user";
	case CLONE_NEWCGROUP:
		return "cgroup";
	case CLONE_NEWIPC:
		return "ipc";
	case CLONE_NEWUTS:
		return "uts";
	case CLONE_NEWNET:
		return "net";
	case CLONE_NEWPID:
		return "pid";
	case CLONE_NEWNS:
		return "mnt";
	case CLONE_NEWTIME:
		return "time";
	}
	return NULL;
}

static unsigned char *read_block(int fd, size_t *len) {
	size_t cap = 4096, n = 0;
	unsigned char *b = malloc(cap);
	if (!b)
		return NULL;
	for (;;) {
		if (n == cap) {
			if (cap >= MAX_BLOCK) {
				free(b);
				return NULL;
			}
			cap *= 2;
			unsigned char *nb = realloc(b, cap);
			if (!nb) {
				free(b);
				return NULL;
			}
			b = nb;
		}
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(b);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	return b;
}

static uint32_t u32_at(const unsigned char *p) {
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

// An fd named by the block: above the two fixed ones, and open.
static int valid_fd(uint32_t fd) { return fd > BX_STAGE_STATUS_FD && fd < 65536 && fcntl((int)fd, F_GETFD) >= 0; }

static int string_ok(const unsigned char *p, uint32_t len) { return len > 0 && memchr(p, 0, len) == p + len - 1; }

// bx_parse reads the block into s. It returns NULL, or what was wrong.
// Every count is bounded by the block's own length (each string record
// takes at least 9 bytes), never added to first.
const char *bx_parse(const unsigned char *b, size_t n, struct bx_stage *s) {
	memset(s, 0, sizeof(*s));
	s->rootfd = s->cwdfd = -1;
	size_t maxstr = n / 9 + 1;
	s->env = calloc(maxstr, sizeof(char *));
	s->argv = calloc(maxstr, sizeof(char *));
	if (!s->env || !s->argv)
		return "out of memory";
	size_t off = 0;
	for (;;) {
		if (n - off < 8)
			return "truncated block";
		uint32_t tag = u32_at(b + off), len = u32_at(b + off + 4);
		off += 8;
		if (len > n - off)
			return "truncated record";
		const unsigned char *p = b + off;
		off += len;
		switch (tag) {
		case BX_END:
			if (len != 0 || off != n)
				return "data after the end record";
			return NULL;
		case BX_TARGET:
			if (len != 4)
				return "bad target record";
			s->target = (int)u32_at(p);
			break;
		case BX_NS: {
			if (len != 8 || s->nns >= BX_MAX_NS)
				return "bad namespace record";
			uint32_t fd = u32_at(p);
			int flag = (int)u32_at(p + 4);
			const char *name = ns_name(flag);
			if (!name || flag == CLONE_NEWPID || !valid_fd(fd))
				return "bad namespace record";
			for (int i = 0; i < s->nns; i++)
				if (s->ns[i].flag == flag)
					return "namespace given twice";
			s->ns[s->nns].fd = (int)fd;
			s->ns[s->nns].flag = flag;
			s->ns[s->nns].name = name;
			s->nns++;
			break;
		}
		case BX_ROOT:
		case BX_CWD:
			if (len != 4 || !valid_fd(u32_at(p)))
				return "bad directory record";
			*(tag == BX_ROOT ? &s->rootfd : &s->cwdfd) = (int)u32_at(p);
			break;
		case BX_DIR:
			if (!string_ok(p, len))
				return "bad string record";
			s->dir = (const char *)p;
			break;
		case BX_ENV:
		case BX_ARG:
			if (!string_ok(p, len))
				return "bad string record";
			if (tag == BX_ENV)
				s->env[s->nenv++] = (char *)p;
			else
				s->argv[s->nargv++] = (char *)p;
			break;
		case BX_SETID:
			if (len != 8)
				return "bad id record";
			s->setid = 1;
			s->uid = u32_at(p);
			s->gid = u32_at(p + 4);
			break;
		case BX_MOUNTPROC:
			if (len != 0)
				return "bad mount-proc record";
			s->mountproc = 1;
			break;
		default:
			if (tag < BX_PROFILE_FIRST || boxtui_stage_profile_record(s, tag, p, len))
				return "unknown record";
		}
	}
}

static int cwd_inside(void) {
	char buf[PATH_MAX + 1];
	long n = syscall(SYS_getcwd, buf, sizeof(buf));
	return n > 0 && buf[0] == '/';
}

// lookup resolves argv[0] inside the root as runtime/enter's lookCommand
// does; NULL with *argv0 set to the shell when argv is empty.
static const char *lookup(struct bx_stage *s, char *resolved, size_t size) {
	static char *shell[2];
	if (s->nargv == 0) {
		const char *sh = bx_shell();
		if (!sh)
			bx_stage_fail("%s", NO_SHELL);
		shell[0] = (char *)sh;
		s->argv = shell;
		s->nargv = 1;
		return sh;
	}
	const char *name = s->argv[0];
	if (!*name)
		not_found("\"\"");
	const char *path = BX_CONTAINER_PATH;
	for (int i = 0; i < s->nenv; i++)
		if (!strncmp(s->env[i], "PATH=", 5))
			path = s->env[i] + 5; // the last one: as a lookup of the environment would find it
	const char *exe = bx_look_path(name, path, resolved, size);
	if (!exe)
		not_found(name);
	return exe;
}

// mount_proc gives the stage a mount namespace of its own, a copy of the
// one joined made a slave of it, with a fresh proc of the PID namespace it
// was born in on the container's /proc (runtime/enter: NewMountProc).
static void mount_proc(struct bx_stage *s) {
	const char *what = "the container has no root to mount a fresh proc under";
	if (s->rootfd < 0)
		bx_stage_fail("%s", what);
	// Stand in the container's root before the copy: unshare moves the
	// root and working directory of the caller to their copies.
	if (fchdir(s->rootfd))
		bx_stage_fail("change to the container's root: %s", errstr(errno));
	if (unshare(CLONE_NEWNS))
		bx_stage_fail("unshare mount namespace: %s", errstr(errno));
	// The whole copy a slave: the proc mounted next never propagates back,
	// while mounts made in the container's namespace still show up here.
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL))
		bx_stage_fail("make / rslave: %s", errstr(errno));
	struct stat st;
	if (stat("proc", &st) || !S_ISDIR(st.st_mode))
		bx_stage_fail("the container has no /proc directory to mount a fresh proc on");
	if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		bx_stage_fail("mount proc on /proc: %s", errstr(errno));
	if (chroot("."))
		bx_stage_fail("chroot to the container's root: %s", errstr(errno));
	const char *dir = s->dir && *s->dir ? s->dir : "/";
	if (chdir(dir))
		bx_stage_fail("working directory %s not found in the container", dir);
}

static void stage_main(void) {
	if (fcntl(BX_STAGE_STATUS_FD, F_SETFD, FD_CLOEXEC))
		_exit(126); // no status pipe: not started by boxtui
	// Born inside the container's PID namespace: nothing there may
	// ptrace us or read our fds through /proc, from the first instruction
	// (bx_join makes sure again, for the fast path).
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		bx_stage_fail("enter stage: make it non-dumpable: %s", errstr(errno));
	size_t n;
	unsigned char *block = read_block(BX_STAGE_CONFIG_FD, &n);
	if (!block)
		bx_stage_fail("enter stage: cannot read its config: %s", errstr(errno));
	close(BX_STAGE_CONFIG_FD);
	struct bx_stage s;
	const char *bad = bx_parse(block, n, &s);
	if (bad)
		bx_stage_fail("enter stage: bad config: %s", bad);

	struct bx_ns ns[BX_MAX_NS];
	for (int i = 0; i < s.nns; i++) {
		ns[i].fd = s.ns[i].fd;
		ns[i].flag = s.ns[i].flag;
		ns[i].name = s.ns[i].name;
	}
	// setns of mnt, user and time refuses a process sharing its fs_struct;
	// ours is our own (a fresh exec), so nothing to unshare.
	const char *failed;
	if (bx_join(ns, s.nns, &failed)) {
		int e = errno;
		if (!strcmp(failed, "dumpable"))
			bx_stage_fail("enter process %d: make the stage non-dumpable: %s", s.target, errstr(e));
		bx_stage_fail("enter process %d: join %s namespace: %s", s.target, failed, errstr(e));
	}
	if (s.mountproc) {
		mount_proc(&s);
	} else {
		// setns(mnt) put us at the namespace's root: right for a
		// pivot_root container, wrong for a chroot one. The root opened
		// from the host covers both.
		if (s.rootfd >= 0 && (fchdir(s.rootfd) || chroot(".") || chdir("/")))
			bx_stage_fail("enter process %d: chroot to its root: %s", s.target, errstr(errno));
		if (s.cwdfd >= 0 && fchdir(s.cwdfd))
			bx_stage_fail("enter process %d: change to its working directory: %s", s.target, errstr(errno));
		if (s.dir && *s.dir) {
			struct stat st;
			if (stat(s.dir, &st) || !S_ISDIR(st.st_mode) || chdir(s.dir))
				bx_stage_fail("working directory %s not found in the container", s.dir);
		}
		// The init's working directory, or -w relative to it, may lie
		// outside its root (an init that chrooted and kept its old cwd).
		if (!cwd_inside())
			bx_stage_fail("%s", CWD_OUTSIDE);
	}
	if (s.rootfd >= 0)
		close(s.rootfd);
	if (s.cwdfd >= 0)
		close(s.cwdfd);
	if (s.setid && bx_setid(s.uid, s.gid, &failed))
		bx_stage_fail("enter process %d: %s %u inside its user namespace: %s", s.target, failed,
			      !strcmp(failed, "setuid") ? s.uid : s.gid, errstr(errno));
	if (boxtui_stage_apply_profile(&s))
		bx_stage_fail("enter process %d: the profile failed", s.target);

	char resolved[PATH_MAX];
	const char *exe = lookup(&s, resolved, sizeof(resolved));
	s.env[s.nenv] = NULL;
	s.argv[s.nargv] = NULL;
	// No descriptor but stdio reaches the command: the status pipe and
	// anything else left are closed on exec.
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC)) {
		for (int fd = 3; fd < 65536; fd++)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	execve(exe, s.argv, s.env);
	if (errno == ENOENT)
		not_found(exe);
	bx_stage_fail("exec %s: %s", exe, errstr(errno));
}

__attribute__((constructor)) static void boxtui_enter_stage(int argc, char **argv, char **envp) {
	(void)envp;
	if (argc != 2 || !argv || !argv[1] || strcmp(argv[1], BX_STAGE_ARG))
		return;
	stage_main();
}
