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
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

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

__attribute__((constructor)) static void boxtui_prefork(int argc, char **argv, char **envp) {
	if (!wants_prefork(argc, argv))
		return;
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
		syscall(SYS_close_range, 7, ~0U, 0);
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
