// prefork.c: start the holder of `boxtui run` while the client starts up.
//
// A launch has three processes in a row (client, holder, init), and each
// used to start the Go runtime and boxtui's package inits only after the
// one before had finished its own: three starts end to end. For `boxtui
// run`, this constructor forks and execs the holder stage from the C
// runtime's init, before the client's Go runtime exists, so the two start
// side by side. The holder then waits for its config on a pipe (fd 5): the
// client writes it once it has parsed its flags and claimed the name.
//
// If the client never sends a config (bad flags, --help, a name taken, a
// crash), the pipe closes when the client exits or discards it, and the
// holder exits without doing anything. BOXTUI_PREFORK=0 turns this off.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stage0.h"

// Read by the Go side (prefork_cgo.go); -1 when no holder was started.
int boxtui_prefork_pid = -1;
int boxtui_prefork_config = -1; // write end: the config goes here
int boxtui_prefork_report = -1; // read end: the holder's reports
int boxtui_prefork_go = -1;     // write end: the go byte for the init
int boxtui_prefork_console = -1; // the client's end of its console connection

static int wants_prefork(int argc, char **argv) {
	if (argc < 2 || !argv || !argv[1] || strcmp(argv[1], "run"))
		return 0;
	const char *off = getenv("BOXTUI_PREFORK");
	if (off && !strcmp(off, "0"))
		return 0;
	if (geteuid() != 0)
		return 0;
	for (int i = 2; i < argc && argv[i]; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 0;
	}
	return 1;
}

// A run whose client can be its own holder: stdin not a terminal (the
// console is relayed, not shown) and only flags known not to need the
// client after the launch or before it (no -d, no -v, no --help). Any
// other word starting with '-' before "--" keeps the usual way.
static int wants_own_holder(int argc, char **argv) {
	const char *off = getenv("BOXTUI_OWN_HOLDER");
	if ((off && !strcmp(off, "0")) || isatty(0))
		return 0;
	// An own holder always starts its init from the zygote; a test that
	// asks for the exec'd or the Go init must get the usual holder, whose
	// zygote honours BOXTUI_INIT_STAGE (zygote.c's wants_zygote).
	const char *stage = getenv("BOXTUI_INIT_STAGE");
	if (stage && (!strcmp(stage, "go") || !strcmp(stage, "exec")))
		return 0;
	static const char *const bare[] = {"--rm", "--net", NULL};
	static const char *const valued[] = {"--name", "--rootfs", "--hostname", "--env", "-e", NULL};
	for (int i = 2; i < argc && argv[i]; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--"))
			break;
		if (a[0] != '-')
			continue;
		int ok = 0;
		for (int k = 0; bare[k] && !ok; k++)
			ok = !strcmp(a, bare[k]);
		for (int k = 0; valued[k] && !ok; k++) {
			size_t n = strlen(valued[k]);
			if (!strncmp(a, valued[k], n) && a[n] == '=' && a[1] == '-')
				ok = 1;
			else if (!strcmp(a, valued[k])) {
				if (i + 1 >= argc || !argv[i + 1])
					return 0;
				i++;
				ok = 1;
			}
		}
		if (!ok)
			return 0;
	}
	return 1;
}

// Read by the Go side when this process is a client that is its own holder.
int boxtui_own = 0;
int boxtui_own_config = -1; // write end: the config for the zygote
int boxtui_own_go = -1;     // write end: the go byte for the init
int boxtui_own_status = -1; // write end: "CODE\n" and X or D, to the waiting process
int boxtui_own_alive = -1;  // read end: EOF once the waiting process is gone

// wait_for_own waits in the process the caller started for the one that
// does the work, and exits as it says: "CODE\nX" means it is exiting
// itself (wait for it, so nothing outlives this process and nothing is
// left for the host's PID 1 to reap: it says so whenever its container
// has exited), "CODE\nD" that it stays on as the holder of a container
// that runs on. Nothing at all means it died.
__attribute__((noreturn)) static void wait_for_own(pid_t pid, int status) {
	char buf[64];
	size_t n = 0;
	for (;;) {
		ssize_t r = read(status, buf + n, sizeof(buf) - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n >= sizeof(buf) - 1 || buf[n - 1] == 'X' || buf[n - 1] == 'D')
			break;
	}
	buf[n] = 0;
	char *nl = strchr(buf, '\n');
	int code = atoi(buf);
	if (nl && nl[1] == 'D')
		_exit(code);
	int ws = 0;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (nl && nl[1] == 'X')
		_exit(code);
	if (WIFEXITED(ws))
		_exit(WEXITSTATUS(ws));
	static const char msg[] = "boxtui: console lost: the container's holder process is gone "
				  "(it may still run: `boxtui ls`)\n";
	ssize_t unused = write(2, msg, sizeof(msg) - 1);
	(void)unused;
	_exit(1);
}

// own_holder splits a `boxtui run` into a process that only waits (this
// one, which the caller waits for: it never starts Go) and a child that
// starts Go, does the client's work and then holds the container itself,
// in the same process: one Go start instead of two. Returns in the child
// with boxtui_own set, or in this process if anything failed (nothing
// changed: the usual prefork follows).
static void own_holder(void) {
	int st[2] = {-1, -1}, al[2] = {-1, -1}, gop[2] = {-1, -1}, cfg[2] = {-1, -1};
	if (pipe2(st, O_CLOEXEC) || pipe2(al, O_CLOEXEC) || pipe2(gop, O_CLOEXEC) || pipe2(cfg, O_CLOEXEC))
		goto undo;
	pid_t pid = fork();
	if (pid < 0)
		goto undo;
	if (pid > 0) {
		close(st[1]);
		close(al[0]);
		close(gop[0]);
		close(gop[1]);
		close(cfg[0]);
		close(cfg[1]);
		wait_for_own(pid, st[0]);
	}
	// The holder: its own session, so that a hangup or ^C on the caller's
	// terminal reaches only the waiting process.
	close(st[0]);
	close(al[1]);
	setsid();
	if (boxtui_zygote_start(gop[0], cfg[0])) {
		// Without a zygote the Go side cannot start an init: say so
		// through the usual error path rather than half-working.
		close(gop[0]);
		close(cfg[0]);
	}
	boxtui_own = 1;
	boxtui_own_config = cfg[1];
	boxtui_own_go = gop[1];
	boxtui_own_status = st[1];
	boxtui_own_alive = al[0];
	return;

undo:
	for (int i = 0; i < 2; i++) {
		if (st[i] >= 0)
			close(st[i]);
		if (al[i] >= 0)
			close(al[i]);
		if (gop[i] >= 0)
			close(gop[i]);
		if (cfg[i] >= 0)
			close(cfg[i]);
	}
}

__attribute__((constructor)) static void boxtui_prefork(int argc, char **argv, char **envp) {
	if (!wants_prefork(argc, argv))
		return;
	if (wants_own_holder(argc, argv)) {
		own_holder();
		if (boxtui_own)
			return;
	}
	int cfg[2] = {-1, -1}, rep[2] = {-1, -1}, gop[2] = {-1, -1}, con[2] = {-1, -1};
	if (pipe2(cfg, O_CLOEXEC) || pipe2(rep, O_CLOEXEC) || pipe2(gop, O_CLOEXEC) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con))
		goto undo;

	// The holder's environment: ours, with GOMAXPROCS=1 (see stageEnv).
	int n = 0;
	while (envp && envp[n])
		n++;
	char **env = calloc((size_t)n + 2, sizeof(char *));
	if (!env)
		goto undo;
	int k = 0;
	for (int i = 0; i < n; i++)
		if (strncmp(envp[i], "GOMAXPROCS=", 11))
			env[k++] = envp[i];
	env[k++] = "GOMAXPROCS=1";
	env[k] = NULL;

	pid_t pid = fork();
	if (pid < 0) {
		free(env);
		goto undo;
	}
	if (pid == 0) {
		// Its own session: a hangup or ^C on the client's terminal must
		// not reach it. fds: 0-2 /dev/null (the holder moves 2 to its log
		// once it knows the name), 3 reports, 4 go pipe, 5 config, 6 the
		// client's console connection, made before either side runs so
		// that the client is registered before the command can start.
		setsid();
		// Lift the sources above the targets first: the pipes may have
		// been given fds 3-5 themselves, and a dup2 onto one of them
		// would close a source not yet moved. dup2 clears close-on-exec
		// on the copies.
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		int src[4] = {
			fcntl(rep[1], F_DUPFD_CLOEXEC, 10),
			fcntl(gop[0], F_DUPFD_CLOEXEC, 10),
			fcntl(cfg[0], F_DUPFD_CLOEXEC, 10),
			fcntl(con[1], F_DUPFD_CLOEXEC, 10),
		};
		if (null < 0 || src[0] < 0 || src[1] < 0 || src[2] < 0 || src[3] < 0 ||
		    dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
		    dup2(src[0], 3) < 0 || dup2(src[1], 4) < 0 || dup2(src[2], 5) < 0 ||
		    dup2(src[3], 6) < 0)
			_exit(127);
		// Nothing else of the client's reaches the holder, which may live
		// for as long as the container: a pipe its caller waits on to close
		// must not stay open behind its back.
		boxtui_close_fds(7, NULL, 0);
		if (chdir("/"))
			_exit(127);
		char *args[] = {"boxtui", "__boxtui-holder", "-", NULL};
		execve("/proc/self/exe", args, env);
		_exit(127);
	}
	free(env);
	close(cfg[0]);
	close(rep[1]);
	close(gop[0]);
	close(con[1]);
	boxtui_prefork_pid = pid;
	boxtui_prefork_config = cfg[1];
	boxtui_prefork_report = rep[0];
	boxtui_prefork_go = gop[1];
	boxtui_prefork_console = con[0];
	return;

undo:
	for (int i = 0; i < 2; i++) {
		if (cfg[i] >= 0)
			close(cfg[i]);
		if (rep[i] >= 0)
			close(rep[i]);
		if (gop[i] >= 0)
			close(gop[i]);
		if (con[i] >= 0)
			close(con[i]);
	}
}
