// fastexec.c: `boxtui exec PID -- CMD...` before the Go runtime starts.
//
// A Go program pays for its runtime and every package init before main:
// 15-17 ms here, more than nsenter's whole run. This constructor runs
// first, from the C runtime's init, while the process is still single-
// threaded. When the call is the plain, common case (a host PID or a
// boxtui name as target, no terminal, no --ns / --new-mount-proc / -t) it does what runtime/enter
// does in Go — join the init's namespaces that differ from ours, chroot to
// its root, change to its working directory, run the command, wait, pass the
// exit code back, record exec-opened/exec-closed in the container's history
// — and exits without Go ever starting.
//
// Anything else, it leaves alone by returning before any side effect: the Go
// code then runs and gives the full behaviour and every error message. The
// rule is simple: before the point of no return (the first setns) this file
// only reads; a case it does not handle, or any doubt, returns to Go.
//
// BOXTUI_FASTEXEC=0 turns it off (tests compare both paths with it);
// BOXTUI_FASTEXEC=require makes a refusal an error (exit 125 with the
// reason), so tests can prove the fast path was taken.

#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

// Keep in step with runtime/enter (DefaultPath, lookCommand) and runtime
// (joinOrder, maxEvents, maxAncestors, event keys and paths).
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define MAX_ANCESTORS 64
#define MAX_ENV 256
// runtime.RecordEvent trims a history once it passes maxEvents*400 bytes;
// leave room below that for our two lines, and let Go do any trimming.
#define EVENTS_TRIM_SIZE (500 * 400)
#define EVENTS_HEADROOM 16384

struct nsinfo {
	const char *name;
	int flag;
};

// The order runtime.joinOrder uses: mnt last, since after it paths resolve
// in the container.
static const struct nsinfo join_order[] = {
	{"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
	{"net", CLONE_NEWNET},       {"pid", CLONE_NEWPID}, {"mnt", CLONE_NEWNS},
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

// fail reports an error after the point of no return, the way the Go CLI
// would: one line on stderr, exit 1.
static void fail(const char *fmt, ...) {
	va_list ap;
	fputs("boxtui: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	_exit(1);
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

static unsigned long long ns_inode(const char *path) {
	struct stat st;
	if (stat(path, &st) != 0)
		return 0;
	return (unsigned long long)st.st_ino;
}

static unsigned long long proc_ns(int pid, const char *type) {
	char path[64];
	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, type);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/%s", type);
	return ns_inode(path);
}

static ssize_t read_small(const char *path, char *buf, size_t size) {
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t off = 0;
	while (off + 1 < size) {
		ssize_t n = read(fd, buf + off, size - 1 - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = 0;
	return (ssize_t)off;
}

// status_of reads PPid and the innermost NSpid of pid.
static int status_of(int pid, long *ppid, long *inner) {
	char path[64], buf[8192];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return -1;
	*ppid = -1;
	*inner = -1;
	for (char *line = buf; line && *line; ) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (!strncmp(line, "PPid:", 5)) {
			*ppid = strtol(line + 5, NULL, 10);
		} else if (!strncmp(line, "NSpid:", 6)) {
			char *last = NULL;
			for (char *p = line + 6; *p; p++)
				if (isdigit((unsigned char)*p) && (p == line + 6 || isspace((unsigned char)p[-1])))
					last = p;
			if (last)
				*inner = strtol(last, NULL, 10);
		}
		line = next;
	}
	return (*ppid >= 0 && *inner >= 0) ? 0 : -1;
}

// stat_of reads the state letter and start time (field 22) of pid.
static int stat_of(int pid, char *state, unsigned long long *start) {
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return -1;
	char *p = strrchr(buf, ')'); // comm may hold spaces and parentheses
	if (!p || p[1] != ' ')
		return -1;
	p += 2;
	*state = *p;
	// Fields after comm: 3 is state; start time is field 22.
	int field = 3;
	while (*p && field < 22) {
		if (*p == ' ')
			field++;
		p++;
	}
	if (field != 22 || !isdigit((unsigned char)*p))
		return -1;
	*start = strtoull(p, NULL, 10);
	return 0;
}

static int all_digits(const char *s) {
	if (!*s || strlen(s) > 9)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

// valid_name is runtime.ValidateName: 1-64 of letters, digits, '-', '_'
// and '.', starting with a letter or digit.
static int valid_name(const char *s) {
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && !(i > 0 && (c == '-' || c == '_' || c == '.')))
			return 0;
	}
	return 1;
}

// json_uint finds the one top-level "key": NUMBER in a state file that
// runtime wrote. A quote inside a JSON string is always escaped, so an
// unescaped "key" is a key; a second one means something is off.
static int json_uint(const char *doc, const char *key, unsigned long long *out) {
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\"", key);
	const char *p = strstr(doc, pat);
	if (!p || strstr(p + 1, pat))
		return -1;
	p += strlen(pat);
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	if (*p++ != ':')
		return -1;
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	if (!isdigit((unsigned char)*p))
		return -1;
	*out = strtoull(p, NULL, 10);
	return 0;
}

// state_init reads the init's PID and start time from NAME's state, if it
// says the container runs.
static int state_init(const char *rundir, const char *name, int *pid, unsigned long long *start) {
	char path[PATH_MAX], doc[65536];
	int n = snprintf(path, sizeof(path), "%s/%s/state.json", rundir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	size_t off = 0;
	for (;;) {
		ssize_t got = read(fd, doc + off, sizeof(doc) - 1 - off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		off += (size_t)got;
		if (off == sizeof(doc) - 1)
			break;
	}
	close(fd);
	doc[off] = 0;
	if (off == 0 || off == sizeof(doc) - 1)
		return -1;
	const char *st = strstr(doc, "\"status\"");
	if (!st || strstr(st + 1, "\"status\""))
		return -1;
	st += strlen("\"status\"");
	while (*st == ' ' || *st == ':')
		st++;
	if (strncmp(st, "\"running\"", 9))
		return -1;
	unsigned long long p;
	if (json_uint(doc, "init_pid", &p) || json_uint(doc, "init_start", start) || p == 0 || p > 1u << 30)
		return -1;
	*pid = (int)p;
	return 0;
}

static int executable(const char *path) {
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

// json_str appends s to buf as a JSON string the way encoding/json writes
// it (<, > and & escaped too).
static size_t json_str(char *buf, size_t off, size_t size, const char *s) {
	static const char hex[] = "0123456789abcdef";
	if (off < size)
		buf[off] = '"';
	off++;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[7];
		const char *out = esc;
		size_t n = 1;
		esc[0] = (char)*p;
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			n = 2;
		} else if (*p == '\n' || *p == '\r' || *p == '\t') {
			esc[0] = '\\';
			esc[1] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
			n = 2;
		} else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&') {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 15];
			n = 6;
		}
		for (size_t k = 0; k < n; k++, off++)
			if (off < size)
				buf[off] = out[k];
	}
	if (off < size)
		buf[off] = '"';
	return off + 1;
}

// self_start is this process's start time, read while /proc is still the
// host's (before any setns or chroot): exec-opened names this process.
static unsigned long long self_start;

// record appends one event line with a single write to the O_APPEND fd, as
// runtime.RecordEvent does. History is informative: failures are ignored.
static void record(int fd, const char *key, const char *kind, const char *detail) {
	if (fd < 0)
		return;
	char buf[8192], stamp[64], frac[16];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	// RFC 3339 with nanoseconds, trailing zeros dropped, as Go's time does.
	frac[0] = 0;
	if (ts.tv_nsec) {
		snprintf(frac, sizeof(frac), ".%09ld", ts.tv_nsec);
		for (size_t n = strlen(frac); frac[n - 1] == '0'; n--)
			frac[n - 1] = 0;
	}
	snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
	size_t off = (size_t)snprintf(buf, sizeof(buf), "{\"time\":\"%s\",\"container\":", stamp);
	off = json_str(buf, off, sizeof(buf), key);
	off += (size_t)snprintf(buf + off, off < sizeof(buf) ? sizeof(buf) - off : 0, ",\"kind\":\"%s\",\"detail\":", kind);
	off = json_str(buf, off, sizeof(buf), detail);
	// An exec-opened names this process, which records the exec-closed:
	// if it dies first, readers and the holder close the exec for it.
	char tail[128];
	if (!strcmp(kind, "exec-opened") && self_start)
		snprintf(tail, sizeof(tail), ",\"by\":\"boxtui exec\",\"client_pid\":%d,\"client_start\":%llu}\n",
			 (int)getpid(), self_start);
	else
		snprintf(tail, sizeof(tail), ",\"by\":\"boxtui exec\"}\n");
	if (off + strlen(tail) >= sizeof(buf))
		return; // an absurdly long command line: leave it out of history
	memcpy(buf + off, tail, strlen(tail));
	off += strlen(tail);
	ssize_t unused = write(fd, buf, off);
	(void)unused;
}

static volatile pid_t child_pid;

static void forward(int sig) {
	if (child_pid > 0)
		kill(child_pid, sig);
}

static const char *signame(int sig, char *buf, size_t size) {
	const char *n = sigabbrev_np(sig);
	if (n)
		return n;
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
	// A name is looked up in its state, as runtime.FindInit does: the
	// init's PID and start time, while it says it runs.
	int by_name = !all_digits(r.target);
	unsigned long long name_start = 0;
	int pid;
	if (by_name) {
		if (!valid_name(r.target))
			return decline("not a valid name");
		if (state_init(rundir, r.target, &pid, &name_start))
			return decline("no running state for the name");
	} else {
		pid = atoi(r.target);
	}

	// Walk from the target up to the PID 1 of its namespace, as
	// runtime.FindInit does; a process that joined from outside declines.
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
		if (ppid <= 0 || proc_ns((int)ppid, "pid") != pidns)
			return decline("init not found by parents");
		pid = (int)ppid;
	}
	if (!found)
		return decline("init not found by parents");
	char state;
	unsigned long long start;
	if (stat_of(pid, &state, &start) || state == 'Z')
		return decline("init exited");
	if (by_name && start != name_start)
		return decline("the state's init is gone");

	// Hold the init by a pidfd, then re-check its start time: the PID
	// cannot be recycled under us after that.
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return decline("pidfd_open failed");
	unsigned long long start2;
	if (stat_of(pid, &state, &start2) || start2 != start || state == 'Z') {
		close(pidfd);
		return decline("init exited");
	}

	// User and time namespaces: Go refuses them with the reason.
	if (proc_ns(pid, "user") && proc_ns(0, "user") && proc_ns(pid, "user") != proc_ns(0, "user")) {
		close(pidfd);
		return decline("user namespace");
	}
	if (proc_ns(pid, "time") && proc_ns(0, "time") && proc_ns(pid, "time") != proc_ns(0, "time")) {
		close(pidfd);
		return decline("time namespace");
	}

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
		unsigned long long theirs = proc_ns(pid, join_order[t].name);
		if (!theirs || theirs == proc_ns(0, join_order[t].name))
			continue;
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, join_order[t].name);
		nsfd[t] = open(path, O_RDONLY | O_CLOEXEC);
		if (nsfd[t] < 0)
			goto declined;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	int rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/cwd", pid);
	int cwdfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int devnull = r.interactive ? -1 : open("/dev/null", O_RDWR | O_CLOEXEC);
	if (rootfd < 0 || cwdfd < 0 || (!r.interactive && devnull < 0) ||
	    stat_of(pid, &state, &start2) || start2 != start) {
		if (rootfd >= 0)
			close(rootfd);
		if (cwdfd >= 0)
			close(cwdfd);
		if (devnull >= 0)
			close(devnull);
		goto declined;
	}

	// Point of no return: from here on this process is inside.
	for (size_t t = 0; t < NJOIN; t++) {
		if (nsfd[t] < 0)
			continue;
		if (setns(nsfd[t], join_order[t].flag))
			fail("enter process %d: join %s namespace: %s", pid, join_order[t].name, strerror(errno));
		close(nsfd[t]);
	}
	if (fchdir(rootfd) || chroot(".") || chdir("/"))
		fail("enter process %d: chroot to its root: %s", pid, strerror(errno));
	if (fchdir(cwdfd))
		fail("enter process %d: change to its working directory: %s", pid, strerror(errno));
	close(rootfd);
	close(cwdfd);

	// The environment: defaults, then -e entries (a later one wins).
	char *env[MAX_ENV + 3];
	int nenv = 0;
	env[nenv++] = "PATH=" DEFAULT_PATH;
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
	const char *pathenv = DEFAULT_PATH;
	for (int k = 0; k < nenv; k++)
		if (!strncmp(env[k], "PATH=", 5))
			pathenv = env[k] + 5;

	// Resolve the command inside, as enter's lookCommand does.
	char resolved[PATH_MAX];
	char *defargv[2] = {NULL, NULL};
	char **cargv = r.cmd;
	const char *exe;
	if (r.ncmd == 0) {
		if (executable("/bin/bash"))
			exe = "/bin/bash";
		else if (executable("/bin/sh"))
			exe = "/bin/sh";
		else
			fail("no shell in the container (neither /bin/bash nor /bin/sh): give a command after --");
		defargv[0] = (char *)exe;
		cargv = defargv;
	} else if (r.cmd[0][0] == 0) {
		fail("command \"\" not found in the container");
	} else if (strchr(r.cmd[0], '/')) {
		if (!executable(r.cmd[0]))
			fail("command %s not found in the container", r.cmd[0]);
		exe = r.cmd[0];
	} else {
		exe = NULL;
		const char *p = pathenv;
		for (;;) {
			const char *end = strchrnul(p, ':');
			int n = (int)(end - p);
			if (n == 0)
				snprintf(resolved, sizeof(resolved), "%s", r.cmd[0]);
			else
				snprintf(resolved, sizeof(resolved), "%.*s/%s", n, p, r.cmd[0]);
			if (executable(resolved)) {
				exe = resolved;
				break;
			}
			if (!*end)
				break;
			p = end + 1;
		}
		if (!exe)
			fail("command %s not found in the container", r.cmd[0]);
	}
	if (r.dir) {
		struct stat st;
		if (stat(r.dir, &st) || !S_ISDIR(st.st_mode))
			fail("working directory %s not found in the container", r.dir);
	}

	// Catch the signals before starting, so none slips by unforwarded.
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	int errpipe[2];
	if (pipe2(errpipe, O_CLOEXEC))
		fail("start %s in container %d: %s", exe, pid, strerror(errno));
	pid_t c = fork();
	if (c < 0) {
		if (errno == ENOMEM) // fork into a PID namespace whose init is gone
			fail("container %d: no such process (its init exited while being entered)", pid);
		fail("start %s in container %d: %s", exe, pid, strerror(errno));
	}
	if (c == 0) {
		// Its own process group: a ^C on our terminal reaches it once,
		// forwarded by us, not twice.
		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		if (devnull >= 0 && dup2(devnull, 0) < 0)
			goto childfail;
		if (r.dir && chdir(r.dir))
			goto childfail;
		execve(exe, cargv, env);
	childfail:;
		int e = errno;
		ssize_t unused = write(errpipe[1], &e, sizeof(e));
		(void)unused;
		_exit(127);
	}
	child_pid = c;
	close(errpipe[1]);
	if (devnull >= 0)
		close(devnull);
	int childerr = 0;
	ssize_t n;
	do
		n = read(errpipe[0], &childerr, sizeof(childerr));
	while (n < 0 && errno == EINTR);
	close(errpipe[0]);
	if (n == sizeof(childerr)) {
		while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
			;
		if (childerr == ENOENT)
			fail("command %s not found in the container", exe);
		fail("start %s in container %d: fork/exec %s: %s", exe, pid, exe, strerror(childerr));
	}

	char what[4096], detail[4096 + 64];
	what[0] = 0;
	if (r.ncmd == 0) {
		snprintf(what, sizeof(what), "the container's shell");
	} else {
		size_t off = 0;
		for (int i = 0; i < r.ncmd && off < sizeof(what); i++)
			off += (size_t)snprintf(what + off, sizeof(what) - off, "%s%s", i ? " " : "", r.cmd[i]);
	}
	snprintf(detail, sizeof(detail), "host pid %d: %s", c, what);
	record(evfd, key, "exec-opened", detail);

	int status;
	while (waitpid(c, &status, 0) < 0) {
		if (errno != EINTR)
			fail("wait for process %d: %s", c, strerror(errno));
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
