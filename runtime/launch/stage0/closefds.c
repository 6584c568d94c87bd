// closefds.c: close every fd a long-lived process must not keep.
//
// The holder, the zygote and the init live as long as their container. An
// fd of the caller's that stayed open in them (a pipe the caller waits on
// to close, a directory of the host) would live as long, so each closes
// all but its own. close_range does that in a call or two; where it fails
// (an old kernel, a seccomp filter that refuses it), the fds are closed
// one by one: those listed in /proc/self/fd, or, without /proc, every one
// below the fd limit.

#define _GNU_SOURCE
#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "stage0.h"

// Test hooks: only the test shim (stage0/cshim) defines BOXTUI_TEST_HOOKS.
#ifdef BOXTUI_TEST_HOOKS
static int no_close_range(void) {
	const char *v = getenv("BOXTUI_TEST_NO_CLOSE_RANGE");
	return v && *v && strcmp(v, "0");
}
#else
#define no_close_range() 0
#endif

static int kept(int fd, const int *keep, int n) {
	for (int i = 0; i < n; i++)
		if (keep[i] == fd)
			return 1;
	return 0;
}

static int close_ranges(int from, const int *keep, int n) {
	if (no_close_range())
		return -1;
	unsigned int lo = (unsigned int)from;
	for (int i = 0; i < n; i++) {
		if (keep[i] < from || (unsigned int)keep[i] < lo)
			continue;
		if ((unsigned int)keep[i] > lo && syscall(SYS_close_range, lo, (unsigned int)keep[i] - 1, 0))
			return -1;
		lo = (unsigned int)keep[i] + 1;
	}
	return syscall(SYS_close_range, lo, ~0U, 0) ? -1 : 0;
}

// close_listed closes the fds /proc/self/fd lists; -1 if it cannot read it.
static int close_listed(int from, const int *keep, int n) {
	int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	char buf[4096];
	long got;
	// Closing an fd already listed does not move the directory's offset
	// (proc counts it in fd numbers), so nothing is skipped.
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
			if (!isdigit((unsigned char)d->name[0]))
				continue;
			int fd = atoi(d->name);
			if (fd >= from && fd != dfd && !kept(fd, keep, n))
				close(fd);
		}
	}
	close(dfd);
	return got < 0 ? -1 : 0;
}

// boxtui_close_fds closes every fd from `from` up but the n in keep
// (ascending).
void boxtui_close_fds(int from, const int *keep, int n) {
	if (close_ranges(from, keep, n) == 0 || close_listed(from, keep, n) == 0)
		return;
	struct rlimit rl;
	unsigned long long max = 1 << 20;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < max)
		max = rl.rlim_cur;
	for (unsigned long long fd = (unsigned long long)from; fd < max; fd++)
		if (!kept((int)fd, keep, n))
			close((int)fd);
}
