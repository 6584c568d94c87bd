// zygote.c: the preforked holder's zygote, which starts the container's
// init without an exec and without waiting for the holder's Go runtime.
//
// A preforked holder (prefork.c) starts beside the client and waits for
// its config. Before this file, the holder's Go main read the config and
// then fork-exec'd the init: the init could start only once the holder's
// Go runtime was up, and then paid for a whole exec of boxtui (~5 ms
// here) before its first mount. Now the holder's C constructor, before Go
// exists, opens the console PTY and the init's ready pipe and forks a
// zygote: a plain C process that waits for the config, clones the init
// into its new namespaces with CLONE_PARENT (so the init is the holder's
// child, reaped by the holder as before), and the init runs initstage.c's
// boxtui_run_init straight from the clone. The zygote tells the holder
// the init's PID on the reply pipe, passes the config on after it, and
// exits. The holder's Go part takes over from there (StartPreforked).
//
// The config on fd 5 is a NUL-separated block for this file followed by
// the JSON Config for Go (see EncodePreforkConfig):
//
//	COUNT \0 FLAGS \0 ROWS \0 COLS \0 ROOTFS \0 HOSTNAME \0 NENV \0 ENV... CMD... JSON
//
// The reply is one line, then the config exactly as read:
//
//	P<init pid>\n   the init runs and will write to the ready pipe
//	E<errno>\n      the clone failed
//	D\n             the block could not be read (a bug: the Go side says so)
//
// Nothing here runs unless argv is exactly `boxtui __boxtui-holder -` with
// pipes on fds 3-5, and BOXTUI_INIT_STAGE=go or =exec turns it off (the
// holder then starts the init as before). Anything that fails before the
// fork leaves the holder as it was, and its Go part does the work.

#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "stage0.h"

// Read by the Go side (prefork_cgo.go); -1 when there is no zygote.
int boxtui_zygote_pid = -1;
int boxtui_zygote_reply = -1;  // read end of the reply pipe
int boxtui_zygote_master = -1; // the console's PTY master, non-blocking
int boxtui_zygote_ready = -1;  // read end of the init's ready pipe

#define CONFIG_MAX (1 << 20)

static int wants_zygote(int argc, char **argv) {
	if (argc != 3 || !argv || !argv[1] || !argv[2] || strcmp(argv[1], "__boxtui-holder") ||
	    strcmp(argv[2], "-"))
		return 0;
	const char *mode = getenv("BOXTUI_INIT_STAGE");
	if (mode && (!strcmp(mode, "go") || !strcmp(mode, "exec")))
		return 0;
	return boxtui_is_pipe(3) && boxtui_is_pipe(4) && boxtui_is_pipe(5);
}

static void write_all(int fd, const char *p, size_t n) {
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; // the holder is gone: nobody to tell
		p += w;
		n -= (size_t)w;
	}
}

// read_config reads fd to its end; NULL with *len 0 when the client closed
// the pipe without a config.
static char *read_config(int fd, size_t *len) {
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return NULL;
	for (;;) {
		if (n == cap) {
			if (cap >= CONFIG_MAX)
				break;
			cap *= 2;
			char *nb = realloc(buf, cap + 1);
			if (!nb)
				break;
			buf = nb;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

struct init_config {
	int net, raw, rows, cols;
	const char *rootfs, *hostname;
	long nenv;
	char **envv, **cmd;
};

// field_long parses a whole decimal field; -1 if it is not one or does
// not fit in [min, max].
static int field_long(const char *s, long min, long max, long *out) {
	char *stop;
	// Digits, maybe after a '-': strtol would also take blanks and '+'.
	if (!isdigit((unsigned char)s[s[0] == '-']))
		return -1;
	errno = 0;
	long v = strtol(s, &stop, 10);
	if (stop == s || *stop || errno || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

// parse_block reads the NUL-separated block at the head of msg (len bytes,
// with a NUL after them), in place. The block comes from the client, a
// process of the same user, but is checked as if hostile: every count is
// bounded by what the block holds, and never added to before it is.
static int parse_block(char *msg, size_t len, struct init_config *c) {
	char *end = msg + len, *p = msg;
	long count, v;
	if (!memchr(p, 0, len) || field_long(p, 7, 1 << 16, &count))
		return -1;
	p += strlen(p) + 1;
	char **f = calloc((size_t)count + 1, sizeof(char *));
	if (!f)
		return -1;
	for (long i = 0; i < count; i++) {
		char *nul = p < end ? memchr(p, 0, (size_t)(end - p)) : NULL;
		if (!nul) {
			free(f);
			return -1;
		}
		f[i] = p;
		p = nul + 1;
	}
	f[count] = NULL;
	c->net = strchr(f[0], 'n') != NULL;
	c->raw = strchr(f[0], 'r') != NULL;
	// A size out of range is no size: console_setup then uses 24x80.
	c->rows = field_long(f[1], 0, 0xffff, &v) ? 0 : (int)v;
	c->cols = field_long(f[2], 0, 0xffff, &v) ? 0 : (int)v;
	c->rootfs = f[3];
	c->hostname = f[4];
	// Six fields before the environment, and at least one command word
	// after it: nenv <= count - 7 (count >= 7, so no overflow).
	if (field_long(f[5], 0, count - 7, &c->nenv)) {
		free(f);
		return -1;
	}
	c->envv = f + 6;
	c->cmd = f + 6 + c->nenv;
	return 0;
}

// console_setup gives the console its size and, for a client that pipes
// data through, turns off echo and output processing (as setRawOutput).
static void console_setup(int slave, const struct init_config *c) {
	struct winsize ws = {.ws_row = 24, .ws_col = 80};
	if (c->rows > 0 && c->cols > 0 && c->rows <= 0xffff && c->cols <= 0xffff) {
		ws.ws_row = (unsigned short)c->rows;
		ws.ws_col = (unsigned short)c->cols;
	}
	ioctl(slave, TIOCSWINSZ, &ws);
	if (!c->raw)
		return;
	struct termios t;
	if (tcgetattr(slave, &t))
		return;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL | ECHOCTL);
	t.c_oflag &= ~(tcflag_t)OPOST;
	tcsetattr(slave, TCSANOW, &t);
}

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

// zygote_main waits for the config, clones the init and reports.
static void zygote_main(int slave, int ready_w, int reply_w, int go_fd, int cfg_fd) {
	// Nothing else of the holder's: not its stdio (a client's, for a
	// client that is its own holder), not the client's console connection.
	int keep[5] = {slave, ready_w, reply_w, go_fd, cfg_fd};
	qsort(keep, 5, sizeof(int), cmp_int);
	boxtui_close_fds(0, keep, 5);
	size_t len = 0;
	char *msg = read_config(cfg_fd, &len);
	close(cfg_fd);
	if (!msg || len == 0)
		_exit(0); // the client's run failed before it had a config
	char *block = malloc(len + 1);
	struct init_config c;
	if (!block || (memcpy(block, msg, len + 1), parse_block(block, len, &c))) {
		write_all(reply_w, "D\n", 2);
		write_all(reply_w, msg, len);
		_exit(0);
	}
	console_setup(slave, &c);

	uint64_t flags = CLONE_PARENT | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC;
	if (c.net)
		flags |= CLONE_NEWNET;
	// With CLONE_PARENT the child's exit signal is the zygote's own
	// (SIGCHLD to the holder), and clone3 wants exit_signal 0 for it.
	struct clone_args args = {.flags = flags};
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0) {
		// The init: what the holder's ForkExec gave it (Setsid, Setctty,
		// fds 0-2 the console, 3 the ready pipe, 4 the go pipe). The
		// sources go above 10 first, so no dup2 lands on one not yet
		// copied.
		int s = fcntl(slave, F_DUPFD, 10), r = fcntl(ready_w, F_DUPFD, 10), g = fcntl(go_fd, F_DUPFD, 10);
		if (s < 0 || r < 0 || g < 0 || setsid() < 0 || ioctl(s, TIOCSCTTY, 0) < 0 ||
		    dup2(s, 0) < 0 || dup2(s, 1) < 0 || dup2(s, 2) < 0 || dup2(r, 3) < 0 || dup2(g, 4) < 0)
			_exit(127);
		boxtui_close_fds(5, NULL, 0);
		boxtui_run_init(c.rootfs, c.hostname, c.nenv, c.envv, c.cmd);
	}
	char line[32];
	int n = pid < 0 ? snprintf(line, sizeof(line), "E%d\n", errno)
			: snprintf(line, sizeof(line), "P%ld\n", pid);
	close(ready_w);
	close(slave);
	close(go_fd);
	write_all(reply_w, line, (size_t)n);
	write_all(reply_w, msg, len);
	_exit(0);
}

// open_console opens a PTY pair as openPTY in stage0.go does.
static int open_console(int *master, int *slave) {
	int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (m < 0)
		return -1;
	int unlock = 0, n = -1;
	char name[64];
	if (ioctl(m, TIOCSPTLCK, &unlock) || ioctl(m, TIOCGPTN, &n)) {
		close(m);
		return -1;
	}
	snprintf(name, sizeof(name), "/dev/pts/%d", n);
	int s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0) {
		close(m);
		return -1;
	}
	*master = m;
	*slave = s;
	return 0;
}

// boxtui_zygote_start opens the console and the init's ready pipe and
// forks the zygote, which takes go_fd (the go pipe's read end) and cfg_fd
// (the config pipe's read end): they are closed here. 0 on success, with
// the boxtui_zygote_* variables set; -1 with nothing changed but go_fd and
// cfg_fd still open.
int boxtui_zygote_start(int go_fd, int cfg_fd) {
	int master = -1, slave = -1, ready[2] = {-1, -1}, reply[2] = {-1, -1};
	if (open_console(&master, &slave))
		return -1;
	if (pipe2(ready, O_CLOEXEC) || pipe2(reply, O_CLOEXEC))
		goto undo;
	pid_t pid = fork();
	if (pid < 0)
		goto undo;
	if (pid == 0)
		zygote_main(slave, ready[1], reply[1], go_fd, cfg_fd);
	// The holder keeps the master, the ready pipe's read end and the
	// reply; the go pipe and the config are the zygote's and then the
	// init's alone, so their ends close with them.
	close(slave);
	close(ready[1]);
	close(reply[1]);
	close(go_fd);
	close(cfg_fd);
	boxtui_zygote_pid = pid;
	boxtui_zygote_reply = reply[0];
	boxtui_zygote_master = master;
	boxtui_zygote_ready = ready[0];
	return 0;

undo:
	close(master);
	close(slave);
	for (int i = 0; i < 2; i++) {
		if (ready[i] >= 0)
			close(ready[i]);
		if (reply[i] >= 0)
			close(reply[i]);
	}
	return -1;
}

__attribute__((constructor)) static void boxtui_zygote(int argc, char **argv, char **envp) {
	(void)envp;
	if (wants_zygote(argc, argv))
		boxtui_zygote_start(4, 5);
}

#ifdef BOXTUI_TEST_HOOKS
// boxtui_shim_parse_block is parse_block for the test shim (stage0/cshim)
// on a copy of msg: -1, or 0 with *out (malloc'd, *outlen bytes) the
// result as NUL-terminated fields: flags ("n", "r"), rows, cols, rootfs,
// hostname, nenv, the environment, then the command.
int boxtui_shim_parse_block(const char *msg, size_t len, char **out, size_t *outlen) {
	char *block = malloc(len + 1);
	if (!block)
		return -1;
	memcpy(block, msg, len);
	block[len] = 0;
	struct init_config c;
	if (parse_block(block, len, &c)) {
		free(block);
		return -1;
	}
	char **fields = c.envv - 6; // parse_block's array
	size_t size = 128 + strlen(c.rootfs) + strlen(c.hostname);
	for (long i = 0; i < c.nenv; i++)
		size += strlen(c.envv[i]) + 1;
	for (char **w = c.cmd; *w; w++)
		size += strlen(*w) + 1;
	char *o = malloc(size);
	if (!o) {
		free(fields);
		free(block);
		return -1;
	}
	size_t n = 0;
	n += (size_t)snprintf(o + n, size - n, "%s%s", c.net ? "n" : "", c.raw ? "r" : "") + 1;
	n += (size_t)snprintf(o + n, size - n, "%d", c.rows) + 1;
	n += (size_t)snprintf(o + n, size - n, "%d", c.cols) + 1;
	n += (size_t)snprintf(o + n, size - n, "%s", c.rootfs) + 1;
	n += (size_t)snprintf(o + n, size - n, "%s", c.hostname) + 1;
	n += (size_t)snprintf(o + n, size - n, "%ld", c.nenv) + 1;
	for (long i = 0; i < c.nenv; i++)
		n += (size_t)snprintf(o + n, size - n, "%s", c.envv[i]) + 1;
	for (char **w = c.cmd; *w; w++)
		n += (size_t)snprintf(o + n, size - n, "%s", *w) + 1;
	free(fields);
	free(block);
	*out = o;
	*outlen = n;
	return 0;
}
#endif
