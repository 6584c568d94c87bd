// asengine.h: applying an engine profile (package runtime/asengine) in
// the exec stage, a single-threaded process, just before it execs.
//
// The stage calls, in this order, after it has joined the container's
// namespaces, chrooted into its root and changed to the working directory:
//
//   bt_ase_parse          the plan Go encoded (asengine.Plan.Encode)
//   bt_ase_join_cgroups   write "0" to each cgroup.procs fd Go opened
//   bt_ase_open_pty       a PTY from the container's own devpts (with -t)
//   bt_ase_send_fd        the master back to the Go parent (SCM_RIGHTS)
//   bt_ase_take_tty       the slave as stdio and controlling terminal
//   bt_ase_apply          groups, uids/gids, capabilities, no_new_privs,
//                         seccomp filters
//   execve
//
// Nothing here allocates or takes a lock: every call is a system call or
// plain C on the caller's memory, so it is safe in a child forked from a
// multithreaded process too. Errors come back as one line in err.
#ifndef BOXTUI_ASENGINE_H
#define BOXTUI_ASENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/filter.h>

// Keep in step with runtime/asengine (encode.go).
#define BT_ASE_MAGIC "BTASE\0"
#define BT_ASE_VERSION 1
#define BT_ASE_MAX_FILTERS 256
// The kernel's bound on the instructions along a filter chain
// (MAX_INSNS_PER_PATH): no chain read from a process can be longer.
#define BT_ASE_MAX_INSNS 32768
#define BT_ASE_MAX_GROUPS 4096
#define BT_ASE_MAX_CGROUPS 64

enum {
	BT_ASE_CAPS = 1,     // 5 x u64: inheritable, permitted, effective, bounding, ambient
	BT_ASE_NNP = 2,      // u32 0|1
	BT_ASE_UIDS = 3,     // 4 x u32: real, effective, saved, fs (the target's user namespace's)
	BT_ASE_GIDS = 4,     // 4 x u32
	BT_ASE_GROUPS = 5,   // n x u32
	BT_ASE_FILTER = 6,   // u64 flags, n x struct sock_filter; oldest first, one record each
	BT_ASE_LASTCAP = 7,  // u32: the kernel's cap_last_cap
	BT_ASE_CGROUPFD = 8, // u32: an fd open for writing on a cgroup.procs
	BT_ASE_END = 9,      // u32: how many records came before; must be last (a cut plan is refused)
	BT_ASE_RLIMIT = 10,  // u32 resource, u32 0, u64 soft, u64 hard; one record each
};

#define BT_ASE_MAX_RLIMITS 64

struct bt_ase_filter {
	uint64_t flags;
	uint32_t len;
	struct sock_filter *insns; // into bt_ase_profile.pool
};

struct bt_ase_profile {
	int has_caps;
	uint64_t inh, prm, eff, bnd, amb;
	int has_nnp, nnp;
	int has_uids, has_gids;
	uint32_t uid[4], gid[4];
	int has_groups;
	uint32_t ngroups;
	gid_t groups[BT_ASE_MAX_GROUPS];
	int last_cap;
	uint32_t nfilters;
	struct bt_ase_filter filters[BT_ASE_MAX_FILTERS];
	uint32_t ninsns;
	struct sock_filter pool[BT_ASE_MAX_INSNS];
	uint32_t ncgroups;
	int cgroup_fds[BT_ASE_MAX_CGROUPS];
	uint32_t nrlimits;
	struct {
		uint32_t resource;
		uint64_t cur, max;
	} rlimits[BT_ASE_MAX_RLIMITS];
};

// bt_ase_parse reads an encoded plan into p (everything is copied: buf
// may go away and need not be aligned). Unknown records, a record of the
// wrong size, a singleton twice or anything past a bound is refused.
int bt_ase_parse(const void *buf, size_t len, struct bt_ase_profile *p, char *err, size_t errlen);

// bt_ase_join_cgroups moves the calling process into each cgroup whose
// cgroup.procs fd the plan lists (the kernel checks the permissions of
// whoever opened the file, so this works from inside the namespaces).
int bt_ase_join_cgroups(const struct bt_ase_profile *p, char *err, size_t errlen);

// bt_ase_open_pty opens a PTY pair from the devpts mounted at /dev/pts of
// the calling process's root (the container's, once chrooted): its ptmx,
// else /dev/ptmx, each checked before and after the open (a character
// device 5:2, whose pair lives on that very devpts instance); the slave is
// taken from the master with TIOCGPTPEER, never by path. Both are
// close-on-exec.
int bt_ase_open_pty(int *master, int *slave, char *err, size_t errlen);

// bt_ase_send_fd sends fd over the unix socket sock (SCM_RIGHTS).
int bt_ase_send_fd(int sock, int fd, char *err, size_t errlen);

// bt_ase_take_tty makes the slave the process's controlling terminal
// (setsid, TIOCSCTTY) and its stdin, stdout and stderr, owned by the
// profile's real uid as a login would, and closes the original fd.
int bt_ase_take_tty(int slave, const struct bt_ase_profile *p, char *err, size_t errlen);

// bt_ase_apply gives the calling process the profile's credentials:
// resource limits, bounding set, groups, uids and gids (keeping capabilities across the
// change), the capability sets, ambient capabilities, no_new_privs and
// the seccomp filters, in the original order. Filters are loaded as late
// as possible (after everything else) when the kernel allows that (with
// no_new_privs, or CAP_SYS_ADMIN kept in the effective set), else while
// still privileged, before the credentials change, as runc does. The
// next call should be execve.
int bt_ase_apply(const struct bt_ase_profile *p, char *err, size_t errlen);

#endif
