// shim.c: test-only helpers around the stage0 C (compiled with
// BOXTUI_TEST_HOOKS, in no boxtui binary).
#define _GNU_SOURCE
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stage0.h"

// boxtui_shim_close_fds_in_child forks; the child runs boxtui_close_fds and
// writes the fds it still has, as "N " each, to out (which keep must
// hold), then exits. Only async-signal-safe calls in the child: the parent
// is a threaded Go process. Returns the child's exit status or -1.
int boxtui_shim_close_fds_in_child(int from, const int *keep, int n, int out) {
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		boxtui_close_fds(from, keep, n);
		int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			_exit(2);
		char buf[4096];
		long got;
		while ((got = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
			for (long off = 0; off < got;) {
				struct {
					unsigned long long ino;
					long long off;
					unsigned short reclen;
					unsigned char type;
					char name[];
				} *d = (void *)(buf + off);
				off += d->reclen;
				if (!isdigit((unsigned char)d->name[0]) || atoi(d->name) == dfd)
					continue;
				size_t l = strlen(d->name);
				d->name[l] = ' ';
				if (write(out, d->name, l + 1) != (ssize_t)(l + 1))
					_exit(3);
			}
		}
		_exit(0);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
