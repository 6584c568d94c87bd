// asengine.c: see asengine.h. Applies an engine profile in the exec stage.

#define _GNU_SOURCE
#include "asengine.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

// --- one-line errors, without stdio (nothing here may allocate) ---

struct msg {
	char *buf;
	size_t size, len;
};

static void msg_str(struct msg *m, const char *s) {
	while (*s && m->size && m->len + 1 < m->size)
		m->buf[m->len++] = *s++;
	if (m->size)
		m->buf[m->len] = 0;
}

static void msg_num(struct msg *m, unsigned long long v) {
	char tmp[24];
	int i = sizeof(tmp) - 1;
	tmp[i] = 0;
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	msg_str(m, tmp + i);
}

// fail writes "WHAT: strerror(errno)" (errno_ 0: just WHAT) and returns -1.
static int fail(char *err, size_t errlen, const char *what, int errno_) {
	struct msg m = {err, errlen, 0};
	msg_str(&m, what);
	if (errno_) {
		// As Go words it: "operation not permitted". strerror needs no
		// allocation in the C locale, the only one a Go process has.
		const char *s = strerror(errno_);
		msg_str(&m, ": ");
		if (m.len + 1 < m.size && *s >= 'A' && *s <= 'Z' && s[1] >= 'a' && s[1] <= 'z') {
			m.buf[m.len++] = (char)(*s++ - 'A' + 'a');
			m.buf[m.len] = 0;
		}
		msg_str(&m, s);
	}
	return -1;
}

static int failn(char *err, size_t errlen, const char *what, unsigned long long n, const char *rest, int errno_) {
	char tmp[160];
	struct msg m = {tmp, sizeof(tmp), 0};
	msg_str(&m, what);
	msg_num(&m, n);
	msg_str(&m, rest);
	return fail(err, errlen, tmp, errno_);
}

// --- parse ---

static uint32_t get32(const unsigned char *b) {
	uint32_t v;
	memcpy(&v, b, 4);
	return v; // little-endian on every architecture boxtui builds for; Go encodes in the host's order
}

static uint64_t get64(const unsigned char *b) {
	uint64_t v;
	memcpy(&v, b, 8);
	return v;
}

int bt_ase_parse(const void *buf, size_t len, struct bt_ase_profile *p, char *err, size_t errlen) {
	const unsigned char *b = buf;
	size_t off = 8;
	unsigned seen = 0;
	p->has_caps = p->has_nnp = p->has_uids = p->has_gids = p->has_groups = 0;
	p->nnp = 0;
	p->ngroups = p->nfilters = p->ninsns = p->ncgroups = p->nrlimits = 0;
	uint64_t rlimit_seen = 0;
	p->last_cap = -1;
	if (len < 8 || memcmp(b, BT_ASE_MAGIC, 6) != 0)
		return fail(err, errlen, "as-engine plan: bad header", 0);
	if ((b[6] | (b[7] << 8)) != BT_ASE_VERSION)
		return fail(err, errlen, "as-engine plan: unknown version", 0);
	uint32_t nrec = 0;
	int ended = 0;
	while (off < len) {
		if (ended)
			return fail(err, errlen, "as-engine plan: records after the end", 0);
		if (len - off < 8)
			return fail(err, errlen, "as-engine plan: truncated record header", 0);
		uint32_t tag = get32(b + off), n = get32(b + off + 4);
		off += 8;
		if (n > len - off)
			return fail(err, errlen, "as-engine plan: truncated record", 0);
		const unsigned char *d = b + off;
		size_t padded = ((size_t)n + 7) & ~(size_t)7;
		if (padded > len - off)
			return fail(err, errlen, "as-engine plan: truncated padding", 0);
		off += padded;
		if (tag < 32 && tag != BT_ASE_FILTER && tag != BT_ASE_CGROUPFD && tag != BT_ASE_RLIMIT) {
			if (seen & (1u << tag))
				return failn(err, errlen, "as-engine plan: record ", tag, " twice", 0);
			seen |= 1u << tag;
		}
		switch (tag) {
		case BT_ASE_CAPS:
			if (n != 40)
				goto badsize;
			p->has_caps = 1;
			p->inh = get64(d), p->prm = get64(d + 8), p->eff = get64(d + 16);
			p->bnd = get64(d + 24), p->amb = get64(d + 32);
			break;
		case BT_ASE_NNP:
			if (n != 4 || get32(d) > 1)
				goto badsize;
			p->has_nnp = 1;
			p->nnp = (int)get32(d);
			break;
		case BT_ASE_UIDS:
		case BT_ASE_GIDS: {
			if (n != 16)
				goto badsize;
			uint32_t *ids = tag == BT_ASE_UIDS ? p->uid : p->gid;
			for (int i = 0; i < 4; i++)
				ids[i] = get32(d + 4 * i);
			if (tag == BT_ASE_UIDS)
				p->has_uids = 1;
			else
				p->has_gids = 1;
			break;
		}
		case BT_ASE_GROUPS:
			if (n % 4 || n / 4 > BT_ASE_MAX_GROUPS)
				goto badsize;
			p->has_groups = 1;
			p->ngroups = n / 4;
			for (uint32_t i = 0; i < p->ngroups; i++)
				p->groups[i] = (gid_t)get32(d + 4 * i);
			break;
		case BT_ASE_FILTER: {
			if (n < 8 + 8 || (n - 8) % 8)
				goto badsize;
			uint32_t count = (n - 8) / 8;
			if (count > 4096)
				goto badsize;
			if (p->nfilters >= BT_ASE_MAX_FILTERS || count > BT_ASE_MAX_INSNS - p->ninsns)
				return fail(err, errlen, "as-engine plan: seccomp filters past the kernel's bounds", 0);
			struct bt_ase_filter *f = &p->filters[p->nfilters++];
			f->flags = get64(d);
			f->len = count;
			f->insns = &p->pool[p->ninsns];
			for (uint32_t i = 0; i < count; i++) {
				const unsigned char *in = d + 8 + 8 * i;
				uint16_t code;
				memcpy(&code, in, 2);
				f->insns[i].code = code;
				f->insns[i].jt = in[2];
				f->insns[i].jf = in[3];
				f->insns[i].k = get32(in + 4);
			}
			p->ninsns += count;
			break;
		}
		case BT_ASE_LASTCAP:
			if (n != 4 || get32(d) > 63)
				goto badsize;
			p->last_cap = (int)get32(d);
			break;
		case BT_ASE_CGROUPFD:
			if (n != 4 || get32(d) > 0x7fffffff)
				goto badsize;
			if (p->ncgroups >= BT_ASE_MAX_CGROUPS)
				return fail(err, errlen, "as-engine plan: too many cgroups", 0);
			p->cgroup_fds[p->ncgroups++] = (int)get32(d);
			break;
		case BT_ASE_RLIMIT: {
			if (n != 24)
				goto badsize;
			uint32_t res = get32(d);
			uint64_t cur = get64(d + 8), max = get64(d + 16);
			if (res >= BT_ASE_MAX_RLIMITS || get32(d + 4) || cur > max || (rlimit_seen & (1ULL << res)))
				goto badsize;
			rlimit_seen |= 1ULL << res;
			p->rlimits[p->nrlimits].resource = res;
			p->rlimits[p->nrlimits].cur = cur;
			p->rlimits[p->nrlimits].max = max;
			p->nrlimits++;
			break;
		}
		case BT_ASE_END:
			if (n != 4 || get32(d) != nrec)
				goto badsize;
			ended = 1;
			break;
		default:
			return failn(err, errlen, "as-engine plan: unknown record ", tag, "", 0);
		}
		nrec++;
		continue;
	badsize:
		return failn(err, errlen, "as-engine plan: record ", tag, " has a bad size or value", 0);
	}
	if (!ended)
		return fail(err, errlen, "as-engine plan: cut short (no end record)", 0);
	if (p->has_caps && p->last_cap < 0)
		return fail(err, errlen, "as-engine plan: capabilities without the kernel's last capability", 0);
	return 0;
}

// --- cgroups ---

int bt_ase_join_cgroups(const struct bt_ase_profile *p, char *err, size_t errlen) {
	for (uint32_t i = 0; i < p->ncgroups; i++) {
		ssize_t n;
		do
			n = write(p->cgroup_fds[i], "0", 1);
		while (n < 0 && errno == EINTR);
		if (n != 1)
			return fail(err, errlen, "join the container's cgroup", n < 0 ? errno : EIO);
	}
	return 0;
}

// --- the container's own PTY ---

static int openat2_(int dirfd, const char *path, uint64_t flags, uint64_t resolve) {
	struct open_how how = {.flags = flags, .resolve = resolve};
	for (int tries = 0;; tries++) {
		int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
		if (fd >= 0)
			return fd;
		// The same retries as internal/openat2: EAGAIN from an unrelated
		// rename or mount during a scoped lookup.
		if (errno == EINTR || (errno == EAGAIN && tries < 128))
			continue;
		return -1;
	}
}

static int is_ptmx(const struct stat *st) {
	return S_ISCHR(st->st_mode) && major(st->st_rdev) == 5 && minor(st->st_rdev) == 2;
}

int bt_ase_open_pty(int *master_out, int *slave_out, char *err, size_t errlen) {
	int root = -1, pts = -1, master = -1, slave = -1, e;
	struct stat pst, st, st2;
	struct statfs sfs;
	const uint64_t strict = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return fail(err, errlen, "open the container's root", errno);
	pts = openat2_(root, "dev/pts", O_PATH | O_DIRECTORY | O_CLOEXEC, RESOLVE_IN_ROOT | strict);
	if (pts < 0) {
		e = errno;
		close(root);
		return fail(err, errlen, "the container has no /dev/pts directory for its terminal (a symlink is refused)", e);
	}
	if (fstatfs(pts, &sfs) < 0 || sfs.f_type != DEVPTS_SUPER_MAGIC || fstat(pts, &pst) < 0) {
		close(pts), close(root);
		return fail(err, errlen, "the container's /dev/pts is not a devpts mount: it has no terminals of its own; exec with --as-engine and no terminal (-i), or without --as-engine", 0);
	}
	// devpts has no rename, link or mknod: nothing in it can be swapped.
	// RESOLVE_NO_XDEV refuses a mount over its ptmx.
	master = openat2_(pts, "ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK,
			  RESOLVE_BENEATH | RESOLVE_NO_XDEV | strict);
	if (master < 0) {
		// Older setups leave devpts's ptmx at mode 000 and make
		// /dev/ptmx the node (or a symlink to pts/ptmx). Look at it
		// first through O_PATH, which opens no device.
		int probe = openat2_(root, "dev/ptmx", O_PATH | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
		if (probe < 0 || fstat(probe, &st) < 0 || !is_ptmx(&st)) {
			if (probe >= 0)
				close(probe);
			close(pts), close(root);
			return fail(err, errlen, "the container has no usable ptmx (/dev/pts/ptmx or /dev/ptmx, a character device 5:2)", 0);
		}
		master = openat2_(root, "dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
		e = errno;
		if (master >= 0 && (fstat(master, &st2) < 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino)) {
			close(master);
			master = -1, e = 0;
		}
		close(probe);
		if (master < 0) {
			close(pts), close(root);
			return fail(err, errlen, "open the container's /dev/ptmx (it changed while opened?)", e);
		}
	}
	close(root);
	unsigned int ptn;
	int unlock = 0;
	if (fstat(master, &st) < 0 || !is_ptmx(&st) || ioctl(master, TIOCGPTN, &ptn) < 0) {
		close(master), close(pts);
		return fail(err, errlen, "the container's ptmx is not a pseudo-terminal multiplexer", 0);
	}
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0) {
		e = errno;
		close(master), close(pts);
		return fail(err, errlen, "unlock the container's pseudo-terminal", e);
	}
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0) {
		e = errno;
		close(master), close(pts);
		return fail(err, errlen, "open the container's pseudo-terminal slave (TIOCGPTPEER)", e);
	}
	// The pair must be of the container's own devpts: the instance
	// mounted at its /dev/pts.
	if (fstat(slave, &st) < 0 || fstatfs(slave, &sfs) < 0 || sfs.f_type != DEVPTS_SUPER_MAGIC ||
	    st.st_dev != pst.st_dev || !S_ISCHR(st.st_mode)) {
		close(slave), close(master), close(pts);
		return fail(err, errlen, "the container's pseudo-terminal is not on its own /dev/pts", 0);
	}
	close(pts);
	int fl = fcntl(master, F_GETFL);
	if (fl < 0 || fcntl(master, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		e = errno;
		close(slave), close(master);
		return fail(err, errlen, "set up the container's pseudo-terminal", e);
	}
	*master_out = master, *slave_out = slave;
	return 0;
}

int bt_ase_send_fd(int sock, int fd, char *err, size_t errlen) {
	char byte = 'M';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	ssize_t n;
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		return fail(err, errlen, "send the terminal to boxtui", n < 0 ? errno : EIO);
	return 0;
}

int bt_ase_take_tty(int slave, const struct bt_ase_profile *p, char *err, size_t errlen) {
	if (p && p->has_uids && p->uid[0] != 0 && fchown(slave, p->uid[0], (gid_t)-1) < 0)
		return fail(err, errlen, "give the terminal to the container's user", errno);
	if (setsid() < 0)
		return fail(err, errlen, "start a session for the terminal", errno);
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return fail(err, errlen, "make the container's pseudo-terminal the controlling terminal", errno);
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return fail(err, errlen, "put the terminal on stdin, stdout and stderr", errno);
	if (slave > 2)
		close(slave);
	return 0;
}

// --- credentials, capabilities, no_new_privs, seccomp ---

static int load_filters(const struct bt_ase_profile *p, char *err, size_t errlen) {
	for (uint32_t i = 0; i < p->nfilters; i++) {
		struct sock_fprog prog = {.len = (unsigned short)p->filters[i].len, .filter = p->filters[i].insns};
		unsigned flags = (unsigned)(p->filters[i].flags & SECCOMP_FILTER_FLAG_LOG);
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) < 0)
			return failn(err, errlen, "load seccomp filter ", i + 1, " of the container's init", errno);
	}
	return 0;
}

int bt_ase_apply(const struct bt_ase_profile *p, char *err, size_t errlen) {
	int late = p->nnp || (p->has_caps && (p->eff & (1ULL << CAP_SYS_ADMIN)));

	// Resource limits first, while raising one is still allowed.
	for (uint32_t i = 0; i < p->nrlimits; i++) {
		struct rlimit rl = {.rlim_cur = p->rlimits[i].cur, .rlim_max = p->rlimits[i].max};
		if (syscall(SYS_prlimit64, 0, p->rlimits[i].resource, &rl, NULL) < 0)
			return failn(err, errlen, "set resource limit ", p->rlimits[i].resource, " to the init's", errno);
	}

	if (p->has_caps) {
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			return fail(err, errlen, "keep capabilities across the uid change", errno);
		// Bounding set first: dropping needs CAP_SETPCAP, still held.
		for (int c = 0; c <= p->last_cap; c++)
			if (!(p->bnd & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
				return failn(err, errlen, "drop capability ", (unsigned)c, " from the bounding set", errno);
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
			return fail(err, errlen, "clear the ambient capabilities", errno);
	}
	if (p->nfilters && !late && load_filters(p, err, errlen) < 0)
		return -1;
	if (p->has_groups && syscall(SYS_setgroups, (size_t)p->ngroups, p->groups) < 0) {
		int e = errno;
		// A user namespace with setgroups denied: fine if the groups
		// are already those.
		gid_t cur[BT_ASE_MAX_GROUPS];
		long n = syscall(SYS_getgroups, BT_ASE_MAX_GROUPS, cur);
		int same = e == EPERM && n == (long)p->ngroups;
		for (long i = 0; same && i < n; i++)
			same = cur[i] == p->groups[i];
		if (!same)
			return fail(err, errlen, "set the supplementary groups", e);
	}
	if (p->has_gids) {
		if (syscall(SYS_setresgid, p->gid[0], p->gid[1], p->gid[2]) < 0)
			return failn(err, errlen, "set gid ", p->gid[0], "", errno);
		if (p->gid[3] != p->gid[1])
			syscall(SYS_setfsgid, p->gid[3]);
	}
	if (p->has_uids) {
		if (syscall(SYS_setresuid, p->uid[0], p->uid[1], p->uid[2]) < 0)
			return failn(err, errlen, "set uid ", p->uid[0], "", errno);
		if (p->uid[3] != p->uid[1])
			syscall(SYS_setfsuid, p->uid[3]);
	}
	if (p->has_caps) {
		struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
		struct __user_cap_data_struct data[2] = {
		    {.effective = (uint32_t)p->eff, .permitted = (uint32_t)p->prm, .inheritable = (uint32_t)p->inh},
		    {.effective = (uint32_t)(p->eff >> 32), .permitted = (uint32_t)(p->prm >> 32), .inheritable = (uint32_t)(p->inh >> 32)},
		};
		if (syscall(SYS_capset, &hdr, data) < 0)
			return fail(err, errlen, "set the capability sets", errno);
		for (int c = 0; c <= p->last_cap; c++)
			if ((p->amb & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
				return failn(err, errlen, "raise ambient capability ", (unsigned)c, "", errno);
	}
	if (p->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail(err, errlen, "set no_new_privs", errno);
	if (p->nfilters && late && load_filters(p, err, errlen) < 0)
		return -1;
	return 0;
}
