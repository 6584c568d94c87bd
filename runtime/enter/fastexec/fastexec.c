// fastexec.c: `boxtui exec PID -- CMD...` before the Go runtime starts.
//
// A Go program pays for its runtime and every package init before main:
// 15-17 ms here, more than nsenter's whole run. This constructor runs
// first, from the C runtime's init, while the process is still single-
// threaded. When the call is the plain, common case (a host PID or a
// boxtui name as target, no terminal, no --ns / --new-mount-proc / -t) it does what runtime/enter
// does in Go — join the namespaces that differ from ours of the process
// named (a host PID: that process, nsenter -t PID; a name: the init), chroot
// to its root, change to its working directory, run the command, wait, pass the
// exit code back, record exec-opened/exec-closed in the container's history
// — and exits without Go ever starting. User and time namespaces included:
// this process is single-threaded, and joins them as the enter stage does
// (runtime/enter/stage/join.h), the command becoming root inside a user
// namespace it joined, as with nsenter -a.
//
// Anything else, it leaves alone by returning before any side effect: the Go
// code then runs and gives the full behaviour and every error message. The
// rule is simple: before the point of no return (the first setns) this file
// only reads; a case it does not handle, or any doubt, returns to Go.
//
// Why this file is over 500 lines: run() is the one straight sequence of
// steps from reading the request to the exit code (checks, then the point
// of no return, then join, fork, wait, record), kept in one function so that
// the order of irreversible steps reads top to bottom; its readers and
// writers live in procread.h, history.h, statefile.h, join.h and
// containerenv.h.
//
// BOXTUI_FASTEXEC=0 turns it off (tests compare both paths with it);
// BOXTUI_FASTEXEC=require makes a refusal an error (exit 125 with the
// reason), so tests can prove the fast path was taken.

#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "containerenv.h" // runtime/containerenv: the PATH and its lookup
#include "join.h"         // runtime/enter/stage: bx_join, bx_setid
#include "statefile.h"    // bx_valid_name, bx_state_init

// Keep in step with runtime (joinOrder, maxEvents, maxAncestors, event
// keys and paths).
#define MAX_ANCESTORS 64
#define MAX_ENV 256
// events.Record trims a history once it passes maxEvents*400 bytes;
// leave room below that for our two lines, and let Go do any trimming.
#define EVENTS_TRIM_SIZE (500 * 400)
#define EVENTS_HEADROOM 16384

struct nsinfo {
	const char *name;
	int flag;
};

// The order the enter stage is given them (runtime's stageOrder): mnt
// after the others, since after it paths resolve in the container, time
// next to it as nsenter has it, and user, which bx_join joins last anyway.
static const struct nsinfo join_order[] = {
	{"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
	{"net", CLONE_NEWNET},       {"pid", CLONE_NEWPID}, {"mnt", CLONE_NEWNS},
	{"time", CLONE_NEWTIME},     {"user", CLONE_NEWUSER},
};
#define NJOIN (sizeof(join_order) / sizeof(join_order[0]))

struct request {
	int interactive;
	const char *dir;
	const char *env[MAX_ENV];
	int nenv;
	const char *target;
	char **cmd;
	int ncmd;
};

static int require_fast;

// Test hooks: compiled in only where BOXTUI_TEST_HOOKS is defined, which
// is the test shim (runtime/enter/fastexec/cshim), never the boxtui binary.
// Each makes a rare moment happen on demand.
#ifdef BOXTUI_TEST_HOOKS
static int hook(const char *name) {
	const char *v = getenv(name);
	return v && *v && strcmp(v, "0");
}
static const char *hook_str(const char *name) { return getenv(name); }
#else
#define hook(name) 0
#define hook_str(name) ((const char *)NULL)
#endif

// decline returns control to Go; under BOXTUI_FASTEXEC=require it is an
// error instead, so a test notices a path it expected to be fast.
static int decline(const char *why) {
	if (require_fast) {
		fprintf(stderr, "boxtui: fast exec declined: %s\n", why);
		fflush(stderr);
		_exit(125);
	}
	return -1;
}

// errstr is strerror in lower case, as Go prints errnos (enterstage.c's
// errstr: the two stages' messages must be equal).
static const char *errstr(int e) {
	static char buf[128];
	snprintf(buf, sizeof(buf), "%s", strerror(e));
	if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

// fail reports an error after the point of no return, the way the Go CLI
// would: one line on stderr, exit 1.
static void vfail(int code, const char *fmt, va_list ap) {
	fputs("boxtui: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	fflush(stderr);
	_exit(code);
}

static void fail(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	vfail(1, fmt, ap);
	va_end(ap);
}

// not_found is fail for a command that is not in the container: exit 127,
// as a shell, nsenter and the Go path (exitstatus.CommandNotFound) say it.
static void not_found(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	vfail(127, fmt, ap);
	va_end(ap);
}

static int flag_bool(const char *inline_val, int has_inline, int *out) {
	if (!has_inline || !strcmp(inline_val, "true") || !strcmp(inline_val, "1")) {
		*out = 1;
		return 0;
	}
	if (!strcmp(inline_val, "false") || !strcmp(inline_val, "0")) {
		*out = 0;
		return 0;
	}
	return -1;
}

// parse mirrors execcmd.Parse for the flags the fast path serves (-i, -w,
// -e); any other flag, help or a usage error declines.
static int parse(int argc, char **argv, struct request *r) {
	memset(r, 0, sizeof(*r));
	for (int i = 2; i < argc; i++) {
		char *arg = argv[i];
		if (!strcmp(arg, "--")) {
			if (i + 1 >= argc)
				return decline("no target");
			r->target = argv[i + 1];
			r->cmd = argv + i + 2;
			r->ncmd = argc - i - 2;
			return 0;
		}
		if (!strncmp(arg, "--", 2)) {
			char name[32];
			const char *eq = strchr(arg + 2, '=');
			size_t n = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
			if (n >= sizeof(name))
				return decline("unknown flag");
			memcpy(name, arg + 2, n);
			name[n] = 0;
			const char *val = eq ? eq + 1 : NULL;
			if (!strcmp(name, "interactive")) {
				if (flag_bool(val, eq != NULL, &r->interactive))
					return decline("bad flag value");
			} else if (!strcmp(name, "workdir") || !strcmp(name, "env")) {
				if (!eq) {
					if (i + 1 >= argc)
						return decline("flag needs an argument");
					val = argv[++i];
				}
				if (name[0] == 'w') {
					r->dir = val;
				} else {
					if (r->nenv >= MAX_ENV)
						return decline("too many -e");
					r->env[r->nenv++] = val;
				}
			} else {
				return decline("flag not served by the fast path");
			}
			continue;
		}
		if (arg[0] == '-' && arg[1] != 0) {
			for (int j = 1; arg[j]; j++) {
				char c = arg[j];
				if (c == 'i') {
					r->interactive = 1;
				} else if (c == 'w' || c == 'e') {
					const char *val;
					if (arg[j + 1]) {
						val = arg + j + 1;
					} else {
						if (i + 1 >= argc)
							return decline("flag needs an argument");
						val = argv[++i];
					}
					if (c == 'w') {
						r->dir = val;
					} else {
						if (r->nenv >= MAX_ENV)
							return decline("too many -e");
						r->env[r->nenv++] = val;
					}
					break;
				} else {
					return decline("flag not served by the fast path");
				}
			}
			continue;
		}
		r->target = arg;
		r->cmd = argv + i + 1;
		r->ncmd = argc - i - 1;
		if (r->ncmd > 0 && !strcmp(r->cmd[0], "--")) {
			r->cmd++;
			r->ncmd--;
		}
		return 0;
	}
	return decline("no target");
}

#include "procread.h" // /proc and TARGET readers (after the test hooks they use)

// cloexec_from marks every fd from `from` up close-on-exec, so that no fd
// boxtui was started with (a directory of the host, say: runc's
// CVE-2024-21626) reaches the command inside. close_range does it in one
// call; where it fails (an old kernel, a seccomp filter), each open fd is
// marked on its own, found in /proc/self/fd or, without /proc, tried up to
// the fd limit.
static void cloexec_from(int from) {
	if (!hook("BOXTUI_TEST_NO_CLOSE_RANGE") &&
	    syscall(SYS_close_range, (unsigned int)from, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		char buf[4096];
		long n;
		int ok = 1;
		while ((n = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
			for (long off = 0; off < n;) {
				struct dirent64_min {
					unsigned long long ino;
					long long off;
					unsigned short reclen;
					unsigned char type;
					char name[];
				} *d = (struct dirent64_min *)(buf + off);
				off += d->reclen;
				if (!isdigit((unsigned char)d->name[0]))
					continue;
				int fd = atoi(d->name);
				if (fd >= from && fd != dfd)
					fcntl(fd, F_SETFD, FD_CLOEXEC);
			}
		}
		if (n < 0)
			ok = 0;
		close(dfd);
		if (ok)
			return;
	}
	struct rlimit rl;
	unsigned long long max = 1 << 20;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < max)
		max = rl.rlim_cur;
	for (unsigned long long fd = (unsigned long long)from; fd < max; fd++)
		fcntl((int)fd, F_SETFD, FD_CLOEXEC);
}

// The message when the working directory is not under the root we entered
// (runtime/enter says the same: keep them equal).
#define CWD_OUTSIDE "working directory is outside the container's root: refusing to start there (a process there could reach the host's files)"

// cwd_inside reports whether the working directory is reachable from the
// root: the kernel's getcwd prefixes "(unreachable)" otherwise (which libc
// turns into ENOENT), as for a directory held from before the chroot.
static int cwd_inside(void) {
	char buf[PATH_MAX + 1];
	long n = syscall(SYS_getcwd, buf, sizeof(buf));
	return n > 0 && buf[0] == '/';
}

#include "history.h" // the container history's writer

// find_init finds the PID 1 of PID namespace pidns among the processes in
// /proc (the walk up the parents ends at a process that joined from
// outside), or returns -1. Only one process of a namespace is its PID 1.
static int find_init(unsigned long long pidns) {
	int dfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	char buf[8192];
	long n;
	int found = -1;
	while (found < 0 && (n = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n && found < 0;) {
			struct dirent64_min {
				unsigned long long ino;
				long long off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *d = (struct dirent64_min *)(buf + off);
			off += d->reclen;
			if (!all_digits(d->name))
				continue;
			int p = atoi(d->name);
			long ppid, inner;
			if (p > 0 && proc_ns(p, "pid") == pidns && status_of(p, &ppid, &inner) == 0 && inner == 1)
				found = p;
		}
	}
	close(dfd);
	return found;
}

#ifdef BOXTUI_TEST_HOOKS
// kill_init ends the init (host PID pid) and waits until it has exited:
// a fork into its PID namespace then fails (ENOMEM), as when a container
// ends while it is entered.
static void kill_init(int pid) {
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0 || syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0))
		_exit(124);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	close(fd);
}
#else
#define kill_init(pid) ((void)0)
#endif

static volatile pid_t child_pid;

static void forward(int sig) {
	if (child_pid > 0)
		kill(child_pid, sig);
}

// signame names sig as signals.Name does (x/sys's names without
// "SIG"; realtime ones from SIGRTMIN, 34, as RTMIN+n up to the middle and
// RTMAX-n after it; any other by number): exec-closed says "killed by
// signal NAME" the same on both paths. glibc's sigabbrev_np differs (POLL
// for 29, no realtime names).
static const char *signame(int sig, char *buf, size_t size) {
	static const char *const names[] = {
		NULL,   "HUP",  "INT",  "QUIT", "ILL",    "TRAP",  "ABRT",   "BUS",  "FPE",   "KILL", "USR1",
		"SEGV", "USR2", "PIPE", "ALRM", "TERM",   "STKFLT", "CHLD",  "CONT", "STOP",  "TSTP", "TTIN",
		"TTOU", "URG",  "XCPU", "XFSZ", "VTALRM", "PROF",  "WINCH", "IO",   "PWR",   "SYS",
	};
	enum { RTMIN = 34, RTMAX = 64, MID = RTMIN + (RTMAX - RTMIN) / 2 };
	if (sig > 0 && sig < (int)(sizeof(names) / sizeof(names[0])))
		return names[sig];
	if (sig == RTMIN)
		return "RTMIN";
	if (sig > RTMIN && sig <= MID)
		snprintf(buf, size, "RTMIN+%d", sig - RTMIN);
	else if (sig > MID && sig < RTMAX)
		snprintf(buf, size, "RTMAX-%d", RTMAX - sig);
	else if (sig == RTMAX)
		return "RTMAX";
	else
		snprintf(buf, size, "%d", sig);
	return buf;
}

static int run(int argc, char **argv) {
	const char *mode = getenv("BOXTUI_FASTEXEC");
	if (mode && !strcmp(mode, "0"))
		return -1;
	require_fast = mode && !strcmp(mode, "require");

	struct request r;
	if (parse(argc, argv, &r))
		return -1;
	if (r.dir && !*r.dir)
		r.dir = NULL; // -w "": runtime/enter reads it as no -w
	if (geteuid() != 0)
		return decline("not root");
	struct termios tio;
	if (ioctl(0, TCGETS, &tio) == 0)
		return decline("stdin is a terminal");
	for (int i = 0; i < r.nenv; i++) {
		const char *eq = strchr(r.env[i], '=');
		if (!eq || eq == r.env[i])
			return decline("bad -e entry");
	}

	const char *rundir = getenv("BOXTUI_RUN_DIR");
	if (!rundir || !*rundir)
		rundir = "/run/boxtui";
	// A name is looked up in its state, as discovery.FindInit does: the
	// init's PID and start time, while it says it runs.
	int tpid = 0; // apart from pid, which must not have its address taken (vfork below)
	int kind = target_kind(r.target, &tpid);
	int pid = tpid;
	if (kind < 0)
		return decline("not a host PID nor a valid name");
	int by_name = kind == 0;
	unsigned long long name_start = 0;
	if (by_name && bx_state_init(rundir, r.target, &tpid, &name_start))
		return decline("no running state for the name");
	pid = tpid;

	// The process entered (nsenter -t PID): the one a host PID names,
	// else the init. Its start time is read before the walk, so that a
	// PID reused meanwhile is noticed at the checks below.
	int epid = pid;
	char state;
	unsigned long long estart = 0;
	if (!by_name && (pid <= 0 || stat_of(pid, &state, &estart) || state == 'Z'))
		return decline("target vanished");

	// Walk from the target up to the PID 1 of its namespace, as
	// discovery.FindInit does; for a process that joined from outside (the
	// seed's second shell: nsenter --pid then unshare --fork), find the
	// init among the processes of its PID namespace.
	unsigned long long host_pidns = proc_ns(0, "pid");
	unsigned long long pidns = proc_ns(pid, "pid");
	if (pid <= 0 || !host_pidns || !pidns || pidns == host_pidns)
		return decline("target not in a container");
	int found = 0;
	for (int k = 0; k < MAX_ANCESTORS && !(by_name && k > 0); k++) {
		long ppid, inner;
		if (status_of(pid, &ppid, &inner))
			return decline("target vanished");
		if (inner == 1) {
			found = 1;
			break;
		}
		if (ppid <= 0 || proc_ns((int)ppid, "pid") != pidns) {
			if (by_name)
				break;
			pid = find_init(pidns);
			found = pid > 0;
			break;
		}
		pid = (int)ppid;
	}
	if (!found)
		return decline("init not found");
	unsigned long long start;
	if (stat_of(pid, &state, &start) || state == 'Z')
		return decline("init exited");
	if (by_name) {
		if (start != name_start)
			return decline("the state's init is gone");
		epid = pid;
		estart = start;
	}

	// Hold the process entered by a pidfd, then re-check its start time:
	// the pidfd then names this process. It does not pin the PID number:
	// once the process is reaped, the number may go to another one, and a
	// /proc/PID path would open that one's files. So the files below are
	// opened by path and then the pidfd is asked whether the process is
	// still there (not yet reaped): if so, the number was its own all
	// along, and every file opened was its.
	int pidfd = (int)syscall(SYS_pidfd_open, epid, 0);
	if (pidfd < 0)
		return decline("pidfd_open failed");
	unsigned long long start2;
	if (stat_of(epid, &state, &start2) || start2 != estart || state == 'Z') {
		close(pidfd);
		return decline("target exited");
	}

	unsigned long long theirs, ours;

	// The container's history: only an existing one with room to grow;
	// creating or trimming it (and pruning old ones) is left to Go.
	char evpath[PATH_MAX], key[96];
	int plen;
	if (by_name) {
		snprintf(key, sizeof(key), "%s", r.target);
		plen = snprintf(evpath, sizeof(evpath), "%s/%s/events.jsonl", rundir, r.target);
	} else {
		snprintf(key, sizeof(key), "pidns:%llu@%llu", pidns, start);
		plen = snprintf(evpath, sizeof(evpath), "%s/events/pidns-%llu-%llu.jsonl", rundir, pidns, start);
	}
	if (plen < 0 || (size_t)plen >= sizeof(evpath)) {
		close(pidfd);
		return decline("run dir path too long");
	}
	int evfd = open(evpath, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	char self_state;
	if (stat_of(getpid(), &self_state, &self_start))
		self_start = 0;
	struct stat evst;
	if (evfd < 0 || fstat(evfd, &evst) || !S_ISREG(evst.st_mode) ||
	    evst.st_size + EVENTS_HEADROOM > EVENTS_TRIM_SIZE) {
		if (evfd >= 0)
			close(evfd);
		close(pidfd);
		return decline("history missing or due for trimming");
	}

	int nsfd[NJOIN];
	for (size_t t = 0; t < NJOIN; t++)
		nsfd[t] = -1;
	for (size_t t = 0; t < NJOIN; t++) {
		int rc = ns_pair(epid, join_order[t].name, &theirs, &ours);
		if (rc < 0) {
			for (size_t u = 0; u < t; u++)
				if (nsfd[u] >= 0)
					close(nsfd[u]);
			close(evfd);
			close(pidfd);
			return decline("a namespace link of the target is unreadable");
		}
		if (rc > 0 || theirs == ours)
			continue;
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", epid, join_order[t].name);
		nsfd[t] = open(path, O_RDONLY | O_CLOEXEC);
		if (nsfd[t] < 0)
			goto declined;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/root", epid);
	int rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/cwd", epid);
	int cwdfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int devnull = r.interactive ? -1 : open("/dev/null", O_RDWR | O_CLOEXEC);
	if (rootfd < 0 || cwdfd < 0 || (!r.interactive && devnull < 0) ||
	    syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) != 0 ||
	    stat_of(epid, &state, &start2) || start2 != estart) {
		if (rootfd >= 0)
			close(rootfd);
		if (cwdfd >= 0)
			close(cwdfd);
		if (devnull >= 0)
			close(devnull);
		goto declined;
	}

	// Point of no return: from here on this process is inside.
	cloexec_from(3);
	// User and time namespaces too: this process is single-threaded. The
	// user namespace is joined last (join.h says why); the command then
	// becomes root inside it, as nsenter -U makes it, in the child below:
	// this process stays the host's root, out of the container's reach
	// (not in its PID namespace, non-dumpable).
	struct bx_ns join[NJOIN];
	int in_userns = 0;
	for (size_t t = 0; t < NJOIN; t++) {
		join[t].fd = nsfd[t];
		join[t].flag = join_order[t].flag;
		join[t].name = join_order[t].name;
		if (nsfd[t] >= 0 && join_order[t].flag == CLONE_NEWUSER)
			in_userns = 1;
	}
	const char *failed;
	if (bx_join(join, (int)NJOIN, &failed)) {
		if (!strcmp(failed, "dumpable"))
			fail("enter process %d: make boxtui non-dumpable: %s", epid, errstr(errno));
		fail("enter process %d: join %s namespace: %s", epid, failed, errstr(errno));
	}
	if (fchdir(rootfd) || chroot(".") || chdir("/"))
		fail("enter process %d: chroot to its root: %s", epid, errstr(errno));
	if (fchdir(cwdfd))
		fail("enter process %d: change to its working directory: %s", epid, errstr(errno));
	close(rootfd);
	close(cwdfd);

	// The environment: defaults, then -e entries (a later one wins).
	char *env[MAX_ENV + 3];
	int nenv = 0;
	env[nenv++] = "PATH=" BX_CONTAINER_PATH;
	env[nenv++] = "HOME=/root";
	for (int i = 0; i < r.nenv; i++) {
		size_t klen = (size_t)(strchr(r.env[i], '=') - r.env[i]) + 1;
		int k;
		for (k = 0; k < nenv; k++)
			if (!strncmp(env[k], r.env[i], klen))
				break;
		env[k] = (char *)r.env[i];
		if (k == nenv)
			nenv++;
	}
	env[nenv] = NULL;
	const char *pathenv = BX_CONTAINER_PATH;
	for (int k = 0; k < nenv; k++)
		if (!strncmp(env[k], "PATH=", 5))
			pathenv = env[k] + 5;

	// Resolve the command inside, as enter's lookCommand does.
	char resolved[PATH_MAX];
	char *defargv[2] = {NULL, NULL};
	char **cargv = r.cmd;
	const char *exe;
	if (r.ncmd == 0) {
		exe = bx_shell();
		if (!exe)
			fail("no shell in the container (neither /bin/bash nor /bin/sh): give a command after --");
		defargv[0] = (char *)exe;
		cargv = defargv;
	} else if (r.cmd[0][0] == 0) {
		not_found("command \"\" not found in the container");
	} else if (!(exe = bx_look_path(r.cmd[0], pathenv, resolved, sizeof(resolved)))) {
		not_found("command %s not found in the container", r.cmd[0]);
	}
	if (r.dir) {
		struct stat st;
		if (stat(r.dir, &st) || !S_ISDIR(st.st_mode) || chdir(r.dir))
			fail("working directory %s not found in the container", r.dir);
	}
	// The init's working directory, or -w relative to it, may lie outside
	// its root (an init that chrooted and kept its old cwd): a command
	// started there could walk up to the host's files. Refuse.
	if (!cwd_inside())
		fail("%s", CWD_OUTSIDE);

	// Catch the signals before starting, so none slips by unforwarded.
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	// A signal between the fork and child_pid = c would find no child to
	// forward to and be lost: hold the forwarded ones back until the
	// child is recorded (the child unblocks them once it has reset them).
	sigset_t fwd, old;
	sigemptyset(&fwd);
	sigaddset(&fwd, SIGINT);
	sigaddset(&fwd, SIGTERM);
	sigaddset(&fwd, SIGHUP);
	sigprocmask(SIG_BLOCK, &fwd, &old);

	int errpipe[2];
	if (pipe2(errpipe, O_CLOEXEC))
		fail("start %s in container %d: %s", exe, pid, errstr(errno));
	// vfork: the child only resets signals, sets up stdin and execs, and
	// copying the page tables for a fork costs ~0.4 ms here, as much as
	// the rest of the start together. The child shares our memory until
	// its execve, so it only makes system calls and never returns.
	if (hook("BOXTUI_TEST_KILL_INIT_AT_FORK"))
		kill_init(pid); // the moment the container could end
	pid_t c = vfork();
	if (c < 0) {
		if (errno == ENOMEM) { // fork into a PID namespace whose init is gone
			// As runtime/enter's Start says it: the process a host PID
			// named, else the container.
			if (!by_name && epid != pid)
				fail("process %d: no such process (it exited while being entered)", epid);
			fail("container %d: no such process (its init exited while being entered)", pid);
		}
		fail("start %s in container %d: %s", exe, pid, errstr(errno));
	}
	if (c == 0) {
		// Its own process group: a ^C on our terminal reaches it once,
		// forwarded by us, not twice.
		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		const char *idfailed = NULL;
		if (devnull >= 0 && dup2(devnull, 0) < 0)
			goto childfail;
		if (in_userns && bx_setid(0, 0, &idfailed))
			goto childfail;
		execve(exe, cargv, env);
	childfail:;
		int e[2] = {errno, idfailed ? (!strcmp(idfailed, "setuid") ? 2 : 1) : 0};
		ssize_t unused = write(errpipe[1], e, sizeof(e));
		(void)unused;
		_exit(127);
	}
	if (hook("BOXTUI_TEST_SIGNAL_AT_FORK"))
		kill(getpid(), SIGTERM); // the moment a ^C or kill could land
	child_pid = c;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(errpipe[1]);
	if (devnull >= 0)
		close(devnull);
	int childerrs[2] = {0, 0};
	ssize_t n;
	do
		n = read(errpipe[0], childerrs, sizeof(childerrs));
	while (n < 0 && errno == EINTR);
	close(errpipe[0]);
	int childerr = childerrs[0];
	if (n == sizeof(childerrs)) {
		while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
			;
		if (childerrs[1]) // as the enter stage says it
			fail("enter process %d: %s 0 inside its user namespace: %s", epid,
			     childerrs[1] == 2 ? "setuid" : "setgid", errstr(childerr));
		if (childerr == ENOENT)
			not_found("command %s not found in the container", exe);
		fail("exec %s: %s", exe, errstr(childerr)); // as the enter stage says it
	}

	// The detail is "host pid N: " and the command line joined by spaces,
	// whole, as the Go path writes it.
	size_t wlen = 64;
	for (int i = 0; i < r.ncmd; i++)
		wlen += strlen(r.cmd[i]) + 1;
	char *opened = malloc(wlen);
	if (opened) {
		size_t off = (size_t)snprintf(opened, wlen, "host pid %d: ", c);
		if (r.ncmd == 0)
			snprintf(opened + off, wlen - off, "the container's shell");
		for (int i = 0; i < r.ncmd; i++)
			off += (size_t)snprintf(opened + off, wlen - off, "%s%s", i ? " " : "", r.cmd[i]);
	}
	// Both events or neither: a history that says an exec ended must
	// have said it started.
	if (!opened || record(evfd, key, "exec-opened", opened))
		evfd = -1;
	free(opened);
	char detail[128];

	int status;
	while (waitpid(c, &status, 0) < 0) {
		if (errno != EINTR)
			fail("wait for process %d: %s", c, errstr(errno));
	}
	int code;
	char sigbuf[16];
	if (WIFSIGNALED(status)) {
		code = 128 + WTERMSIG(status);
		snprintf(detail, sizeof(detail), "host pid %d: killed by signal %s", c,
			 signame(WTERMSIG(status), sigbuf, sizeof(sigbuf)));
	} else {
		code = WEXITSTATUS(status);
		snprintf(detail, sizeof(detail), "host pid %d: exited with status %d", c, code);
	}
	record(evfd, key, "exec-closed", detail);
	fflush(stdout);
	_exit(code);

declined:
	for (size_t t = 0; t < NJOIN; t++)
		if (nsfd[t] >= 0)
			close(nsfd[t]);
	close(evfd);
	close(pidfd);
	return decline("target files not readable");
}

__attribute__((constructor)) static void boxtui_fastexec(int argc, char **argv, char **envp) {
	(void)envp;
	if (argc < 2 || !argv || !argv[1] || strcmp(argv[1], "exec"))
		return;
	int saved = errno;
	run(argc, argv);
	errno = saved;
}

#ifdef BOXTUI_TEST_HOOKS
// What the test shim (cshim) calls to compare this file's encoders with
// Go's on the same inputs.
size_t boxtui_shim_json_str(char *buf, size_t size, const char *s) { return json_str(buf, 0, size, s); }

// boxtui_shim_parse is parse (as run then reads it) of argv: -1 if it
// declines, else 0 with *out (malloc'd, *outlen bytes) the request as
// NUL-terminated fields: interactive ("0"/"1"), dir, nenv, env..., target,
// then the command.
int boxtui_shim_parse(int argc, char **argv, char **out, size_t *outlen) {
	struct request r;
	if (parse(argc, argv, &r))
		return -1;
	if (r.dir && !*r.dir)
		r.dir = NULL;
	size_t size = 64 + (r.dir ? strlen(r.dir) : 0) + strlen(r.target);
	for (int i = 0; i < r.nenv; i++)
		size += strlen(r.env[i]) + 1;
	for (int i = 0; i < r.ncmd; i++)
		size += strlen(r.cmd[i]) + 1;
	char *o = malloc(size);
	if (!o)
		return -1;
	size_t n = 0;
	n += (size_t)snprintf(o + n, size - n, "%d", r.interactive) + 1;
	n += (size_t)snprintf(o + n, size - n, "%s", r.dir ? r.dir : "") + 1;
	n += (size_t)snprintf(o + n, size - n, "%d", r.nenv) + 1;
	for (int i = 0; i < r.nenv; i++)
		n += (size_t)snprintf(o + n, size - n, "%s", r.env[i]) + 1;
	n += (size_t)snprintf(o + n, size - n, "%s", r.target) + 1;
	for (int i = 0; i < r.ncmd; i++)
		n += (size_t)snprintf(o + n, size - n, "%s", r.cmd[i]) + 1;
	*out = o;
	*outlen = n;
	return 0;
}

const char *boxtui_shim_signame(int sig, char *buf, size_t size) { return signame(sig, buf, size); }

int boxtui_shim_valid_name(const char *s) { return bx_valid_name(s); }

int boxtui_shim_target_kind(const char *t, int *pid) { return target_kind(t, pid); }

int boxtui_shim_parse_status(const char *buf, size_t len, long *ppid, long *inner) {
	return parse_status(buf, len, ppid, inner);
}

int boxtui_shim_parse_stat(const char *buf, size_t len, char *state, unsigned long long *start) {
	return parse_stat(buf, len, state, start);
}

int boxtui_shim_state_doc(const char *doc, size_t len, const char *name, int *pid, unsigned long long *start) {
	return bx_state_doc(doc, len, name, pid, start);
}

int boxtui_shim_state_init(const char *rundir, const char *name, int *pid, unsigned long long *start) {
	return bx_state_init(rundir, name, pid, start);
}

char *boxtui_shim_event_line(const char *stamp, const char *key, const char *kind, const char *detail, size_t *len) {
	return event_line(stamp, key, kind, detail, ",\"by\":\"boxtui exec\"}\n", len);
}
#endif
