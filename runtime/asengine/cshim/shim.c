// shim.c: test entry points around asengine.c, for package cshim only.

#define _GNU_SOURCE
#include "asengine.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

// bt_ase_shim_dump parses buf and prints what it read, one field a line,
// in the form the Go test prints a Plan. Returns -1 with err on refusal.
int bt_ase_shim_dump(const void *buf, size_t len, char *out, size_t outlen, char *err, size_t errlen) {
	struct bt_ase_profile *p = malloc(sizeof(*p));
	if (!p)
		return -1;
	if (bt_ase_parse(buf, len, p, err, errlen) < 0) {
		free(p);
		return -1;
	}
	size_t off = 0;
#define OUT(...) off += (size_t)snprintf(out + off, off < outlen ? outlen - off : 0, __VA_ARGS__)
	OUT("lastcap %d\n", p->last_cap);
	if (p->has_caps)
		OUT("caps %llx %llx %llx %llx %llx\n", (unsigned long long)p->inh, (unsigned long long)p->prm,
		    (unsigned long long)p->eff, (unsigned long long)p->bnd, (unsigned long long)p->amb);
	if (p->has_nnp)
		OUT("nnp %d\n", p->nnp);
	if (p->has_uids)
		OUT("uids %u %u %u %u\n", p->uid[0], p->uid[1], p->uid[2], p->uid[3]);
	if (p->has_gids)
		OUT("gids %u %u %u %u\n", p->gid[0], p->gid[1], p->gid[2], p->gid[3]);
	if (p->has_groups) {
		OUT("groups");
		for (uint32_t i = 0; i < p->ngroups; i++)
			OUT(" %u", (unsigned)p->groups[i]);
		OUT("\n");
	}
	for (uint32_t i = 0; i < p->nfilters; i++) {
		OUT("filter %llx", (unsigned long long)p->filters[i].flags);
		for (uint32_t j = 0; j < p->filters[i].len; j++) {
			struct sock_filter *f = &p->filters[i].insns[j];
			OUT(" %x:%x:%x:%x", f->code, f->jt, f->jf, f->k);
		}
		OUT("\n");
	}
	for (uint32_t i = 0; i < p->nrlimits; i++)
		OUT("rlimit %u %llx %llx\n", p->rlimits[i].resource, (unsigned long long)p->rlimits[i].cur,
		    (unsigned long long)p->rlimits[i].max);
	for (uint32_t i = 0; i < p->ncgroups; i++)
		OUT("cgroupfd %d\n", p->cgroup_fds[i]);
	free(p);
	return off < outlen ? (int)off : -2;
}

static void child_fail(int fd, const char *msg) {
	size_t n = strlen(msg);
	if (write(fd, msg, n) < 0) {
	}
	_exit(127);
}

// stage_child is the part of the stage after the joins: cgroups, the
// terminal, the profile, exec. Errors go to errfd.
static void stage_child(struct bt_ase_profile *p, int errfd, int pty_sock, char *const argv[], char *const envp[]) {
	char e[512];
	if (bt_ase_join_cgroups(p, e, sizeof(e)) < 0)
		child_fail(errfd, e);
	if (pty_sock >= 0) {
		int master, slave;
		if (bt_ase_open_pty(&master, &slave, e, sizeof(e)) < 0 || bt_ase_send_fd(pty_sock, master, e, sizeof(e)) < 0)
			child_fail(errfd, e);
		close(master);
		if (bt_ase_take_tty(slave, p, e, sizeof(e)) < 0)
			child_fail(errfd, e);
	}
	if (bt_ase_apply(p, e, sizeof(e)) < 0)
		child_fail(errfd, e);
	execve(argv[0], argv, envp);
	child_fail(errfd, "execve failed");
}

// bt_ase_shim_spawn forks a child that does what the exec stage will:
// joins the namespaces of nsfds (setns), chroots into rootfd (if >= 0);
// with fork_after_join forks once more (a joined PID namespace applies to
// children only) and waits for that grandchild, which goes on; then joins
// the plan's cgroups, with pty_sock >= 0 opens a terminal from the root's
// devpts and sends the master there, applies the plan and execs argv with
// envp. Returns the host PID of the process that exec'd (and in *helper
// the waiting child, or 0), once it has exec'd; or -1 with its one-line
// error in err.
int bt_ase_shim_spawn(const void *buf, size_t len, const int *nsfds, int nns, int rootfd, int fork_after_join,
		      int pty_sock, char *const argv[], char *const envp[], int *helper, char *err, size_t errlen) {
	*helper = 0;
	struct bt_ase_profile *p = malloc(sizeof(*p));
	if (!p)
		return -1;
	if (bt_ase_parse(buf, len, p, err, errlen) < 0) {
		free(p);
		return -1;
	}
	int pfd[2], pidpipe[2];
	if (pipe2(pfd, O_CLOEXEC) < 0 || pipe2(pidpipe, O_CLOEXEC) < 0) {
		free(p);
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		free(p);
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(pfd[0]);
		close(pidpipe[0]);
		for (int i = 0; i < nns; i++)
			if (setns(nsfds[i], 0) < 0)
				child_fail(pfd[1], "setns failed");
		if (rootfd >= 0 && (fchdir(rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0))
			child_fail(pfd[1], "chroot failed");
		pid_t exec_pid = getpid();
		if (fork_after_join) {
			exec_pid = fork();
			if (exec_pid < 0)
				child_fail(pfd[1], "fork failed");
			if (exec_pid == 0) {
				close(pidpipe[1]);
				stage_child(p, pfd[1], pty_sock, argv, envp);
			}
			close(pfd[1]);
		}
		if (write(pidpipe[1], &exec_pid, sizeof(exec_pid)) != sizeof(exec_pid))
			_exit(126);
		if (fork_after_join) {
			close(pidpipe[1]);
			int st;
			while (waitpid(exec_pid, &st, __WALL) < 0 && errno == EINTR)
				;
			_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		}
		stage_child(p, pfd[1], pty_sock, argv, envp);
	}
	free(p);
	close(pfd[1]);
	close(pidpipe[1]);
	pid_t exec_pid = -1;
	ssize_t pn;
	do
		pn = read(pidpipe[0], &exec_pid, sizeof(exec_pid));
	while (pn < 0 && errno == EINTR);
	close(pidpipe[0]);
	size_t got = 0;
	for (;;) {
		ssize_t n = read(pfd[0], err + got, errlen - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got >= errlen - 1)
			break;
	}
	close(pfd[0]);
	err[got] = 0;
	if (got || pn != sizeof(exec_pid)) {
		if (!got)
			snprintf(err, errlen, "the stage died before it said its PID");
		int st;
		while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR)
			;
		return -1;
	}
	if (fork_after_join)
		*helper = pid;
	return exec_pid;
}
