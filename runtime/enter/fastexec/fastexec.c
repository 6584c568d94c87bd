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

// ns_inode is the inode of a namespace link, or 0 with errno set.
static unsigned long long ns_inode(const char *path) {
	struct stat st;
	if (stat(path, &st) != 0)
		return 0;
	return (unsigned long long)st.st_ino;
}

static unsigned long long proc_ns(int pid, const char *type) {
	char path[64];
	const char *hide = hook_str("BOXTUI_TEST_HIDE_NS");
	if (pid > 0 && hide && !strcmp(hide, type)) {
		errno = EACCES; // as for a link we may not read
		return 0;
	}
	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, type);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/%s", type);
	return ns_inode(path);
}

// ns_pair reads the target's and our own link of one namespace type: 0
// with both inodes, 1 when neither exists (a kernel without that type),
// -1 when either cannot be read. Skipping an unreadable link would join
// the others only: a partial entry that nobody asked for.
static int ns_pair(int pid, const char *type, unsigned long long *theirs, unsigned long long *ours) {
	*theirs = proc_ns(pid, type);
	int terr = errno;
	*ours = proc_ns(0, type);
	int oerr = errno;
	if (*theirs && *ours)
		return 0;
	if (!*theirs && !*ours && terr == ENOENT && oerr == ENOENT)
		return 1;
	return -1;
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

// digits reports whether s[0..n) is 1 to max decimal digits, optionally
// after a '-' when sign is set.
static int digits(const char *s, size_t n, size_t max, int sign) {
	if (sign && n > 0 && *s == '-')
		s++, n--;
	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

// parse_status reads PPid and the innermost NSpid of a /proc/PID/status
// text (len bytes) as procfs.ParseStatus reads them, for readStatusOf:
// 0, or -1 for anything Go would refuse or read another way (the kernel's
// text always passes). Go refuses the whole text for a bad PPid, NSpid,
// Uid, SigCgt or SigBlk, so those are all checked; a text without its
// final newline was cut short.
static int parse_status(const char *buf, size_t len, long *ppid, long *inner) {
	static const char *const keys[] = {"PPid:\t", "NSpid:\t", "Uid:\t", "SigCgt:\t", "SigBlk:\t"};
	int seen[5] = {0};
	if (len == 0 || buf[len - 1] != '\n' || memchr(buf, 0, len))
		return -1;
	*ppid = *inner = -1;
	for (const char *line = buf, *end; line < buf + len; line = end + 1) {
		end = memchr(line, '\n', (size_t)(buf + len - line));
		for (int k = 0; k < 5; k++) {
			size_t kl = strlen(keys[k]);
			if ((size_t)(end - line) < kl - 1 || memcmp(line, keys[k], kl - 1))
				continue;
			if (seen[k]++ || (size_t)(end - line) < kl || line[kl - 1] != '\t')
				return -1; // twice (Go takes the last), or not as the kernel writes it
			const char *v = line + kl;
			size_t vl = (size_t)(end - v);
			if (k == 0) { // PPid: one number
				if (!digits(v, vl, 9, 0))
					return -1;
				*ppid = strtol(v, NULL, 10);
			} else if (k == 1) { // NSpid: tab-separated PIDs, each > 0
				for (const char *t = v, *te; t <= end; t = te + 1) {
					te = memchr(t, '\t', (size_t)(end - t));
					if (!te)
						te = end;
					if (!digits(t, (size_t)(te - t), 9, 0) || (*inner = strtol(t, NULL, 10)) <= 0)
						return -1;
				}
			} else if (k == 2) { // Uid: the first of its numbers
				const char *te = memchr(v, '\t', vl);
				if (!digits(v, te ? (size_t)(te - v) : vl, 10, 0))
					return -1;
			} else { // SigCgt, SigBlk: 64 bits in hex
				if (vl == 0 || vl > 16)
					return -1;
				for (size_t i = 0; i < vl; i++)
					if (!isxdigit((unsigned char)v[i]))
						return -1;
			}
		}
	}
	return (*ppid >= 0 && *inner > 0) ? 0 : -1;
}

// parse_stat reads the state letter and start time (field 22) of a
// /proc/PID/stat text as procfs.ParseStat does: the command name up to
// the last ')', then the fields, which Go wants at least up to 24 and
// numbers in 4, 14, 15, 22 and 24. 0, or -1 for anything Go would refuse
// or read another way (the kernel's text always passes).
static int parse_stat(const char *buf, size_t len, char *state, unsigned long long *start) {
	if (len == 0 || memchr(buf, 0, len))
		return -1;
	const char *open = memchr(buf, '(', len), *close = memrchr(buf, ')', len);
	if (!open || !close || close < open || open == buf || open[-1] != ' ' || !digits(buf, (size_t)(open - 1 - buf), 9, 0))
		return -1;
	const char *p = close + 1, *end = buf + len;
	if (end[-1] == '\n')
		end--;
	if (p >= end || *p != ' ')
		return -1;
	int field = 3;
	for (p++; p <= end; field++) {
		const char *te = memchr(p, ' ', (size_t)(end - p));
		if (!te)
			te = end;
		size_t n = (size_t)(te - p);
		if (field == 3) {
			if (n != 1 || !isalpha((unsigned char)*p))
				return -1;
			*state = *p;
		} else if (field == 14 || field == 15 || field == 22 ? !digits(p, n, 19, 0) // uint64
			   : field == 4 || field == 24		     ? !digits(p, n, 18, 1)   // int
								     : !digits(p, n, 20, 1)) {
			return -1; // every field after the state is a number
		} else if (field == 22) {
			errno = 0;
			*start = strtoull(p, NULL, 10);
			if (errno)
				return -1;
		}
		p = te + 1;
	}
	return field > 24 ? 0 : -1;
}

// status_of reads PPid and the innermost NSpid of pid.
static int status_of(int pid, long *ppid, long *inner) {
	char path[64], buf[8192];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	ssize_t n = read_small(path, buf, sizeof(buf));
	if (n <= 0 || (size_t)n == sizeof(buf) - 1)
		return -1; // nothing, or perhaps cut short: left to Go
	return parse_status(buf, (size_t)n, ppid, inner);
}

// stat_of reads the state letter and start time (field 22) of pid.
static int stat_of(int pid, char *state, unsigned long long *start) {
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	ssize_t n = read_small(path, buf, sizeof(buf));
	if (n <= 0 || (size_t)n == sizeof(buf) - 1)
		return -1;
	return parse_stat(buf, (size_t)n, state, start);
}

static int all_digits(const char *s) { return digits(s, strlen(s), 9, 0); }

// target_kind says how discovery.FindInit reads a TARGET: 1 for a host PID
// (in *pid), 0 for a name, -1 for what the fast path leaves to Go (a
// number strconv.Atoi takes that is no PID here, anything else that is no
// valid name).
static int target_kind(const char *t, int *pid) {
	if (all_digits(t)) {
		*pid = atoi(t);
		return *pid > 0 ? 1 : -1;
	}
	if (t[strspn(t, "0123456789")] == 0 || ((t[0] == '+' || t[0] == '-') && t[1] && !t[1 + strspn(t + 1, "0123456789")]))
		return -1; // a number all the same, to Go
	return bx_valid_name(t) ? 0 : -1;
}

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

// utf8_len is the length of the valid UTF-8 sequence at p, or 0 for an
// invalid one (a stray or missing continuation byte, an overlong form, a
// surrogate, past U+10FFFF): Go's utf8.DecodeRune returning RuneError, 1.
static size_t utf8_len(const unsigned char *p) {
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t k = 2; k < n; k++)
		if (p[k] < 0x80 || p[k] > 0xbf)
			return 0;
	return n;
}

// json_str appends s to buf (of size bytes; nothing past it is written)
// as a JSON string exactly the way encoding/json's Marshal writes it: ",
// \ and controls escaped (\b \f \n \r \t short, the rest \u00XX), <, >
// and & as \u003c \u003e \u0026, invalid UTF-8 as \ufffd for each bad
// byte, U+2028 and U+2029 as \u2028 and \u2029. It returns the offset
// after the string, which may pass size: then the caller's buffer was too
// small.
static size_t json_str(char *buf, size_t off, size_t size, const char *s) {
	static const char hex[] = "0123456789abcdef";
	if (off < size)
		buf[off] = '"';
	off++;
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		char esc[8];
		size_t n = 1, adv = 1;
		esc[0] = (char)*p;
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			n = 2;
		} else if (*p == '\b' || *p == '\f' || *p == '\n' || *p == '\r' || *p == '\t') {
			esc[0] = '\\';
			esc[1] = *p == '\b' ? 'b' : *p == '\f' ? 'f' : *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
			n = 2;
		} else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&') {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 15];
			n = 6;
		} else if (*p >= 0x80) {
			adv = utf8_len(p);
			if (adv == 0) {
				memcpy(esc, "\\ufffd", 6);
				n = 6;
				adv = 1;
			} else if (adv == 3 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
				memcpy(esc, "\\u202", 5);
				esc[5] = p[2] == 0xa8 ? '8' : '9';
				n = 6;
			} else {
				memcpy(esc, p, adv);
				n = adv;
			}
		}
		for (size_t k = 0; k < n; k++, off++)
			if (off < size)
				buf[off] = esc[k];
		p += adv;
	}
	if (off < size)
		buf[off] = '"';
	return off + 1;
}

// self_start is this process's start time, read while /proc is still the
// host's (before any setns or chroot): exec-opened names this process.
static unsigned long long self_start;

// event_line builds one history line as events.Record marshals an
// Event, into a buffer of its own size (never cut short: the Go path
// records any command line whole, and so must this one). NULL if out of
// memory. tail ends the object (the "by" field and what follows).
static char *event_line(const char *stamp, const char *key, const char *kind, const char *detail,
			const char *tail, size_t *len) {
	size_t taillen = strlen(tail);
	size_t need = 0;
	for (int pass = 0; pass < 2; pass++) {
		char *buf = pass ? malloc(need) : NULL;
		if (pass && !buf)
			return NULL;
		size_t size = pass ? need : 0, off = 0;
		off += (size_t)snprintf(buf, size, "{\"time\":\"%s\",\"container\":", stamp);
		off = json_str(buf, off, size, key);
		off += (size_t)snprintf(pass ? buf + off : NULL, pass ? size - off : 0, ",\"kind\":\"%s\",\"detail\":", kind);
		off = json_str(buf, off, size, detail);
		if (pass)
			memcpy(buf + off, tail, taillen + 1);
		off += taillen;
		if (pass) {
			*len = off;
			return buf;
		}
		need = off + 1;
	}
	return NULL;
}

// record appends one event line with a single write to the O_APPEND fd, as
// events.Record does. History is informative: failures are ignored,
// but reported (-1) so that no exec-closed follows a lost exec-opened.
static int record(int fd, const char *key, const char *kind, const char *detail) {
	if (fd < 0)
		return -1;
	char stamp[64], frac[16];
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
	// An exec-opened names this process, which records the exec-closed:
	// if it dies first, readers and the holder close the exec for it.
	char tail[128];
	if (!strcmp(kind, "exec-opened") && self_start)
		snprintf(tail, sizeof(tail), ",\"by\":\"boxtui exec\",\"client_pid\":%d,\"client_start\":%llu}\n",
			 (int)getpid(), self_start);
	else
		snprintf(tail, sizeof(tail), ",\"by\":\"boxtui exec\"}\n");
	size_t len;
	char *line = event_line(stamp, key, kind, detail, tail, &len);
	if (!line)
		return -1;
	ssize_t n = write(fd, line, len);
	free(line);
	return n == (ssize_t)len ? 0 : -1;
}

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
