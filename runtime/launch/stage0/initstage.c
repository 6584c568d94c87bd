// initstage.c: the container's init stage (__boxtui-init) before Go starts.
//
// The init is on a launch's critical path: the holder starts it, and the
// command runs only after it has built the container's mounts. In Go that
// meant starting the runtime (~8 ms here) before the first mount. This
// constructor does the same work as init.go's initMain, step for step and
// with the same messages, and execs the command without Go ever starting.
// init.go stays as the implementation for builds without cgo, and tests
// compare the two (BOXTUI_INIT_STAGE=go makes the holder's init take the
// Go path).
//
// argv: boxtui-init __boxtui-init ROOTFS HOSTNAME NENV ENV... CMD ARGS...
// fds: 0-2 the console, 3 the ready pipe to the holder, 4 the go pipe.

#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "containerenv.h" // runtime/containerenv: the PATH and its lookup
#include "stage0.h"

// utf8_decode decodes the UTF-8 sequence at p as Go's utf8.DecodeRune
// does: its length and rune, or 0 for an invalid one (a stray or missing
// continuation byte, an overlong form, a surrogate, past U+10FFFF).
static size_t utf8_decode(const unsigned char *p, unsigned long *r) {
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n;
	if (c < 0x80) {
		*r = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, *r = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, *r = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, *r = c & 0x07;
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
	for (size_t k = 1; k < n; k++) {
		if (p[k] < (k == 1 ? lo : 0x80) || p[k] > (k == 1 ? hi : 0xbf))
			return 0;
		*r = (*r << 6) | (p[k] & 0x3f);
	}
	return n;
}

// Go's errors read like strerror's, lower-cased: keep the messages equal.
static const char *errstr(int e, char *buf, size_t size) {
	snprintf(buf, size, "%s", strerror(e));
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

// fail writes 'E' and the message on the ready pipe, as init.go's fail.
// The holder reads the message with one read of 4096 bytes: both inits
// cut a longer one (a command name of kilobytes) to those 4096 bytes
// (init.go's maxInitMessage), so that they write the same.
#define MAX_INIT_MESSAGE 4096
__attribute__((noreturn, format(printf, 1, 2))) static void fail(const char *fmt, ...) {
	char msg[MAX_INIT_MESSAGE + 1]; // and vsnprintf's NUL
	msg[0] = 'E';
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg + 1, sizeof(msg) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (n > (int)sizeof(msg) - 2)
		n = (int)sizeof(msg) - 2;
	ssize_t unused = write(3, msg, (size_t)n + 1);
	(void)unused;
	_exit(1);
}

// quote_ascii writes s as Go's strconv.QuoteToASCII (fmt's %+q) does, into
// buf of size bytes (4 * strlen(s) + 3 always suffices), and returns buf.
// init.go quotes with %+q: a quoting both inits produce byte for byte
// (Go's plain %q keeps the printable runes of all Unicode, which would
// need Go's Unicode tables here).
static const char *quote_ascii(char *buf, size_t size, const char *s) {
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
#define PUT(c) do { if (o + 1 < size) buf[o] = (c); o++; } while (0)
	PUT('"');
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		unsigned char c = *p;
		unsigned long r;
		size_t w = utf8_decode(p, &r);
		if (w == 0) { // not UTF-8: the byte, in hex
			PUT('\\'); PUT('x'); PUT(hex[c >> 4]); PUT(hex[c & 15]);
			p++;
			continue;
		}
		p += w;
		if (r == '"' || r == '\\') {
			PUT('\\'); PUT((char)r);
		} else if (r >= 0x20 && r < 0x7f) {
			PUT((char)r);
		} else if (r == '\a' || r == '\b' || r == '\f' || r == '\n' || r == '\r' || r == '\t' || r == '\v') {
			static const char from[] = "\a\b\f\n\r\t\v", to[] = "abfnrtv";
			PUT('\\'); PUT(to[strchr(from, (int)r) - from]);
		} else if (r < 0x20 || r == 0x7f) {
			PUT('\\'); PUT('x'); PUT(hex[r >> 4]); PUT(hex[r & 15]);
		} else if (r < 0x10000) {
			PUT('\\'); PUT('u');
			for (int k = 12; k >= 0; k -= 4)
				PUT(hex[(r >> k) & 15]);
		} else {
			PUT('\\'); PUT('U');
			for (int k = 28; k >= 0; k -= 4)
				PUT(hex[(r >> k) & 15]);
		}
	}
	PUT('"');
#undef PUT
	buf[o < size ? o : size - 1] = 0;
	return buf;
}

// quoted is quote_ascii into memory of its own (never freed: the init
// execs or exits right after).
static const char *quoted(const char *s) {
	size_t size = 4 * strlen(s) + 3;
	char *buf = malloc(size);
	return buf ? quote_ascii(buf, size, s) : "\"?\"";
}

__attribute__((noreturn)) static void mount_fail(const char *op, const char *target, int e) {
	char eb[128];
	fail("%s %s: %s", op, target, errstr(e, eb, sizeof(eb)));
}

int boxtui_is_pipe(int fd) {
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

// OPENAT2_RETRIES bounds the retries of an openat2 that says EAGAIN. With
// RESOLVE_IN_ROOT the kernel answers EAGAIN when a rename or mount
// anywhere on the host raced a lookup that crossed "..": the lookup is fine
// to repeat, but not for ever (a host busy renaming must not hang a
// launch). libpathrs settled on 128. The Go twin, the retry of Go's
// openat2 calls (init.go's openDirInRoot and the mounts code), must use
// the same number.
#define OPENAT2_RETRIES 128

#ifdef BOXTUI_TEST_HOOKS
// The test shim sets how many EAGAINs openat2 says before it works.
int boxtui_test_eagains;
static int sys_openat2(int dirfd, const char *name, struct open_how *how) {
	if (boxtui_test_eagains > 0) {
		boxtui_test_eagains--;
		errno = EAGAIN;
		return -1;
	}
	return (int)syscall(SYS_openat2, dirfd, name, how, sizeof(*how));
}
#else
#define sys_openat2(dirfd, name, how) ((int)syscall(SYS_openat2, dirfd, name, how, sizeof(*(how))))
#endif

// openat2_retry is openat2, tried again on EAGAIN up to OPENAT2_RETRIES
// times.
static int openat2_retry(int dirfd, const char *name, struct open_how *how) {
	int fd = sys_openat2(dirfd, name, how);
	for (int i = 0; i < OPENAT2_RETRIES && fd < 0 && errno == EAGAIN; i++)
		fd = sys_openat2(dirfd, name, how);
	return fd;
}

static int open_dir_in_root(int rootfd, const char *name) {
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	char eb[128];
	int fd = openat2_retry(rootfd, name, &how);
	if (fd < 0 && errno == ENOENT) {
		// mkdirat does not follow a final symlink: a dangling one fails
		// here rather than creating a directory somewhere else.
		if (mkdirat(rootfd, name, 0755) && errno != EEXIST)
			fail("create /%s in the rootfs: %s", name, errstr(errno, eb, sizeof(eb)));
		fd = openat2_retry(rootfd, name, &how);
	}
	if (fd < 0)
		fail("open /%s in the rootfs: %s", name, errstr(errno, eb, sizeof(eb)));
	return fd;
}

// new_mount makes a detached mount of a fresh filesystem; opts are
// key/value pairs, a NULL value setting a flag.
static int new_mount(const char *fstype, const char *const *opts, unsigned int attrs) {
	int fsfd = (int)syscall(SYS_fsopen, fstype, FSOPEN_CLOEXEC);
	if (fsfd < 0)
		mount_fail("create", fstype, errno);
	for (int i = 0; opts && opts[i]; i += 2) {
		int r = opts[i + 1]
			    ? (int)syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, opts[i], opts[i + 1], 0)
			    : (int)syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_FLAG, opts[i], NULL, 0);
		if (r < 0) {
			char what[128];
			snprintf(what, sizeof(what), "set %s=%s on", opts[i], opts[i + 1] ? opts[i + 1] : "");
			mount_fail(what, fstype, errno);
		}
	}
	if (syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		mount_fail("create", fstype, errno);
	int mfd = (int)syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, attrs);
	if (mfd < 0)
		mount_fail("mount", fstype, errno);
	close(fsfd);
	return mfd;
}

static void attach(int mfd, int targetfd, const char *what) {
	if (syscall(SYS_move_mount, mfd, "", targetfd, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		mount_fail("attach", what, errno);
}

static void mount_proc(int rootfd) {
	int target = open_dir_in_root(rootfd, "proc");
	int mfd = new_mount("proc", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	attach(mfd, target, "/proc");
	close(mfd);
	close(target);
}

static void mount_dev(int rootfd) {
	static const struct {
		const char *name;
		unsigned major, minor;
	} nodes[] = {{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
	static const char *links[][2] = {
		{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
		{"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},
	};
	char eb[128];
	int target = open_dir_in_root(rootfd, "dev");
	static const char *const tmpfs_opts[] = {"mode", "755", "size", "65536k", NULL};
	int mfd = new_mount("tmpfs", tmpfs_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++)
		if (mknodat(mfd, nodes[i].name, S_IFCHR | 0666, makedev(nodes[i].major, nodes[i].minor)))
			fail("create /dev/%s: %s", nodes[i].name, errstr(errno, eb, sizeof(eb)));
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlinkat(links[i][1], mfd, links[i][0]))
			fail("create /dev/%s: %s", links[i][0], errstr(errno, eb, sizeof(eb)));
	if (mkdirat(mfd, "pts", 0755))
		fail("create /dev/pts: %s", errstr(errno, eb, sizeof(eb)));
	if (mkdirat(mfd, "shm", 01777))
		fail("create /dev/shm: %s", errstr(errno, eb, sizeof(eb)));
	attach(mfd, target, "/dev");
	int pts = openat(mfd, "pts", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (pts < 0)
		fail("open /dev/pts: %s", errstr(errno, eb, sizeof(eb)));
	static const char *const devpts_opts[] = {"newinstance", NULL, "ptmxmode", "0666", "mode", "0620", NULL};
	int ptsfd = new_mount("devpts", devpts_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
	attach(ptsfd, pts, "/dev/pts");
	close(ptsfd);
	close(pts);
	close(mfd);
	close(target);
}

// setup_container: see setupContainer in init.go for why this order.
static void setup_container(const char *rootfs, const char *hostname) {
	char eb[128];
	if (mount("", "/", "", MS_REC | MS_PRIVATE, ""))
		mount_fail("make private", "/", errno);
	if (sethostname(hostname, strlen(hostname)))
		fail("set hostname %s: %s", quoted(hostname), errstr(errno, eb, sizeof(eb)));
	if (mount(rootfs, rootfs, "", MS_BIND | MS_REC, ""))
		mount_fail("bind rootfs onto itself", rootfs, errno);
	int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		fail("open rootfs %s: %s", rootfs, errstr(errno, eb, sizeof(eb)));
	umask(0); // device nodes must get exactly the modes asked for
	mount_proc(rootfd);
	mount_dev(rootfd);
	if (fchdir(rootfd))
		fail("enter rootfs %s: %s", rootfs, errstr(errno, eb, sizeof(eb)));
	if (syscall(SYS_pivot_root, ".", "."))
		mount_fail("pivot_root into", rootfs, errno);
	if (umount2(".", MNT_DETACH))
		mount_fail("detach the old root from", rootfs, errno);
	if (chdir("/"))
		fail("chdir /: %s", errstr(errno, eb, sizeof(eb)));
	close(rootfd);
}

// boxtui_run_init is the init's work once it runs as PID 1 of its new
// namespaces with its fds in place: build the container, report ready,
// wait for the go byte, exec the command. It never returns. Both ways an
// init starts call it: this file's constructor (an init the holder
// exec'd) and zygote.c (an init cloned from the holder's zygote).
void boxtui_run_init(const char *rootfs, const char *hostname, long nenv, char **envv, char **cmd) {
	fcntl(3, F_SETFD, FD_CLOEXEC);
	fcntl(4, F_SETFD, FD_CLOEXEC);
	setup_container(rootfs, hostname);
	if (write(3, "R", 1) != 1)
		_exit(1); // the holder is gone: nobody would hold the console
	char go;
	ssize_t n;
	do
		n = read(4, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1) {
		ssize_t unused = write(3, "A", 1);
		(void)unused;
		_exit(1);
	}
	close(4);

	// Look the command up inside, as a shell would (in the container's
	// PATH: the command's environment does not choose where it is found).
	const char *exe = cmd[0];
	char found[4096];
	if (!strchr(exe, '/') && !(exe = bx_look_path(cmd[0], BX_CONTAINER_PATH, found, sizeof(found))))
		fail("command not found: %s is not in the container's PATH", quoted(cmd[0]));
	umask(022);
	char **env = calloc((size_t)nenv + 2, sizeof(char *));
	if (!env)
		fail("exec %s: out of memory", cmd[0]);
	char host[300];
	snprintf(host, sizeof(host), "HOSTNAME=%s", hostname);
	env[0] = host;
	for (long i = 0; i < nenv; i++)
		env[i + 1] = envv[i];
	execve(exe, cmd, env);
	char eb[128];
	fail("exec %s: %s", cmd[0], errstr(errno, eb, sizeof(eb)));
}

// init_args checks the init's argv as init.go's parseInitArgs does (the
// cshim holds the two equal): NENV plain decimal digits, at least one
// command word after the environment. It returns NENV, or -1.
static long init_args(int argc, char **argv) {
	if (argc < 6)
		return -1;
	const char *count = argv[4];
	if (!*count)
		return -1;
	for (const char *p = count; *p; p++)
		if (!isdigit((unsigned char)*p))
			return -1;
	errno = 0;
	long nenv = strtol(count, NULL, 10);
	// nenv is compared with what argc leaves, never added to: a huge one
	// must not wrap around.
	if (errno || nenv > (long)argc - 6)
		return -1;
	return nenv;
}

static void init_stage(int argc, char **argv) {
	const char *mode = getenv("BOXTUI_INIT_STAGE");
	if (mode && !strcmp(mode, "go"))
		return;
	// Anything but PID 1 with its two launch pipes is not ours to run:
	// init.go refuses it with the message.
	if (getpid() != 1 || !boxtui_is_pipe(3) || !boxtui_is_pipe(4))
		return;
	long nenv = init_args(argc, argv);
	if (nenv < 0)
		return; // malformed: let init.go say so
	boxtui_run_init(argv[2], argv[3], nenv, argv + 5, argv + 5 + nenv);
}

__attribute__((constructor)) static void boxtui_init_stage(int argc, char **argv, char **envp) {
	(void)envp;
	if (argc < 2 || !argv || !argv[1] || strcmp(argv[1], "__boxtui-init"))
		return;
	init_stage(argc, argv);
}

#ifdef BOXTUI_TEST_HOOKS
// What the test shim (stage0/cshim) calls.
const char *boxtui_shim_quote(char *buf, size_t size, const char *s) { return quote_ascii(buf, size, s); }

long boxtui_shim_init_args(int argc, char **argv) { return init_args(argc, argv); }

// boxtui_shim_open_in_root is open_dir_in_root's lookup (without its
// mkdir and its fail) after `eagains` EAGAINs: the fd, or -errno.
int boxtui_shim_open_in_root(int rootfd, const char *name, int eagains) {
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	boxtui_test_eagains = eagains;
	int fd = openat2_retry(rootfd, name, &how);
	int e = errno;
	boxtui_test_eagains = 0;
	return fd >= 0 ? fd : -e;
}
#endif
