// join.h: entering namespaces from one single-threaded process. Shared by
// the enter stage (enterstage.c) and the fast exec path (fastexec.c), the
// two places boxtui joins a container before any Go runs.
#ifndef BOXTUI_JOIN_H
#define BOXTUI_JOIN_H

#include <errno.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

struct bx_ns {
	int fd;		  // -1: not joined
	int flag;	  // CLONE_NEW*
	const char *name; // for errors: "user", "mnt", ...
};

// bx_join joins ns[0..n), skipping fd < 0 entries, and returns 0, or -1
// with errno set and *failed naming the namespace that could not be
// joined.
//
// The user namespace is the one that changes what we may do, so it is
// joined last: every other namespace first, in the order given, while we
// still hold the host's capabilities (root on the host may join any of
// them, also one not owned by the container's user namespace, such as a
// network namespace it shares with something else), then the user
// namespace, which leaves us with exactly the capabilities root has inside.
// A namespace that failed before it is tried once more from inside (a
// caller that is not the host's root may only join those the container's
// user namespace owns). util-linux's nsenter makes the same two passes but
// tries the user namespace first: for host root that loses the host's
// capabilities before the others are joined, and a namespace owned by
// another user namespace then cannot be joined at all.
//
// The caller must be single-threaded and not share its fs_struct (the
// kernel refuses setns of user, mnt and time otherwise). The process is
// made non-dumpable first: once inside the container's user namespace, its
// root could otherwise ptrace us (CAP_SYS_PTRACE there is enough for a
// dumpable process) between the join and the exec.
static inline int bx_join(struct bx_ns *ns, int n, const char **failed) {
	int user = -1, firsterr = 0;
	const char *first = NULL;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		return *failed = "dumpable", -1;
	for (int i = 0; i < n; i++) {
		if (ns[i].fd < 0)
			continue;
		if (ns[i].flag == CLONE_NEWUSER) {
			user = i;
		} else if (setns(ns[i].fd, ns[i].flag) == 0) {
			close(ns[i].fd);
			ns[i].fd = -1;
		} else if (!first) {
			first = ns[i].name;
			firsterr = errno;
		}
	}
	if (user < 0) {
		if (first) {
			errno = firsterr;
			return *failed = first, -1;
		}
		return 0;
	}
	if (setns(ns[user].fd, CLONE_NEWUSER))
		return *failed = ns[user].name, -1;
	close(ns[user].fd);
	ns[user].fd = -1;
	for (int i = 0; first && i < n; i++) {
		if (ns[i].fd < 0)
			continue;
		if (setns(ns[i].fd, ns[i].flag))
			return *failed = ns[i].name, -1;
		close(ns[i].fd);
		ns[i].fd = -1;
	}
	return 0;
}

// bx_setid becomes uid/gid (0/0: root inside) after joining a user
// namespace, as nsenter -U does: supplementary groups dropped (where the
// user namespace allows it: "deny" in its setgroups file makes that EPERM,
// which nsenter ignores too), then the gid, then the uid. Raw system calls:
// it runs in a vfork child too, where libc's set*id wrappers must not
// broadcast to threads.
static inline int bx_setid(unsigned uid, unsigned gid, const char **failed) {
	if (syscall(SYS_setgroups, 0, NULL) && errno != EPERM)
		return *failed = "setgroups", -1;
	if (syscall(SYS_setresgid, gid, gid, gid))
		return *failed = "setgid", -1;
	if (syscall(SYS_setresuid, uid, uid, uid))
		return *failed = "setuid", -1;
	return 0;
}

#endif
