// seal.c: re-execute boxtui from a sealed copy of its binary before any
// other constructor runs (see doc.go for why). Its Go twin is exeseal.go:
// the same rule (needs_seal / NeedsSeal), the same two ways to seal, the
// same checks; change them together.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/mount.h>

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#define MFD_ALLOW_SEALING 0x0002U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef ST_RDONLY
#define ST_RDONLY 1
#endif

// boxtui_exe_sealed reports whether fd (open on a binary) can never be
// written: it is on a read-only mount or superblock, or a memfd sealed
// against writes.
int boxtui_exe_sealed(int fd) {
	struct statfs sfs;
	if (fstatfs(fd, &sfs) == 0 && (sfs.f_flags & ST_RDONLY))
		return 1;
	int seals = fcntl(fd, F_GET_SEALS);
	return seals >= 0 && (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) && (seals & F_SEAL_SEAL);
}

// same_file reports whether the overlay's view of the binary is the file
// this process runs (it is not if the binary was replaced since).
static int same_file(int a, int b) {
	struct stat sa, sb;
	if (fstat(a, &sa) || fstat(b, &sb))
		return 0;
	return S_ISREG(sa.st_mode) && sa.st_mode == sb.st_mode && sa.st_size == sb.st_size &&
	       sa.st_mtim.tv_sec == sb.st_mtim.tv_sec && sa.st_mtim.tv_nsec == sb.st_mtim.tv_nsec &&
	       sa.st_ctim.tv_sec == sb.st_ctim.tv_sec && sa.st_ctim.tv_nsec == sb.st_ctim.tv_nsec;
}

static void close_keep_errno(int fd) {
	int e = errno;
	if (fd >= 0)
		close(fd);
	errno = e;
}

// detached_mount builds a detached mount of fstype from a context fsfd
// already configured, closing fsfd.
static int detached_mount(int fsfd, unsigned int attrs) {
	int mfd = -1;
	if (syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		mfd = (int)syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, attrs);
	close_keep_errno(fsfd);
	return mfd;
}

// seal_overlay returns an fd on the binary seen through a detached,
// read-only overlay of its own directory, or -1 with errno and *what set.
static int seal_overlay(int exefd, const char **what) {
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	*what = "read /proc/self/exe";
	if (n <= 0)
		return -1;
	path[n] = 0;
	char *slash = strrchr(path, '/');
	if (!slash || slash[1] == 0) {
		errno = EINVAL;
		return -1;
	}
	const char *base = slash + 1;
	*slash = 0;
	const char *dir = path[0] ? path : "/";

	*what = "open the binary's directory";
	int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -1;
	// overlayfs without an upper layer wants two lower ones that do not
	// overlap: the second is an empty, read-only tmpfs.
	*what = "make an empty tmpfs";
	int tfs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
	int empty = -1;
	if (tfs >= 0 && syscall(SYS_fsconfig, tfs, FSCONFIG_SET_STRING, "size", "4k", 0) == 0 &&
	    syscall(SYS_fsconfig, tfs, FSCONFIG_SET_STRING, "mode", "0555", 0) == 0)
		empty = detached_mount(tfs, MOUNT_ATTR_RDONLY);
	else
		close_keep_errno(tfs);
	if (empty < 0) {
		close_keep_errno(dirfd);
		return -1;
	}
	*what = "mount the overlay";
	int ofs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
	int mnt = -1;
	if (ofs >= 0 && syscall(SYS_fsconfig, ofs, FSCONFIG_SET_FD, "lowerdir+", NULL, dirfd) == 0 &&
	    syscall(SYS_fsconfig, ofs, FSCONFIG_SET_FD, "lowerdir+", NULL, empty) == 0)
		mnt = detached_mount(ofs, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
	else
		close_keep_errno(ofs);
	close_keep_errno(dirfd);
	close_keep_errno(empty);
	if (mnt < 0)
		return -1;
	*what = "open the binary in the overlay";
	int fd = openat(mnt, base, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	close_keep_errno(mnt);
	if (fd < 0)
		return -1;
	if (!same_file(fd, exefd)) {
		*what = "find the running binary in its directory";
		close(fd);
		errno = ESTALE;
		return -1;
	}
	return fd;
}

// seal_memfd returns a write-sealed memfd copy of the binary.
static int seal_memfd(int exefd, const char **what) {
	*what = "memfd_create";
	int fd = (int)syscall(SYS_memfd_create, "boxtui", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (fd < 0 && errno == EINVAL) // kernels before 6.3 know no MFD_EXEC
		fd = (int)syscall(SYS_memfd_create, "boxtui", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -1;
	*what = "copy the binary";
	struct stat st;
	if (fstat(exefd, &st))
		goto fail;
	off_t off = 0;
	while (off < st.st_size) {
		ssize_t n = sendfile(fd, exefd, &off, (size_t)(st.st_size - off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			goto fail;
		}
	}
	*what = "seal the copy";
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL))
		goto fail;
	return fd;
fail:
	close_keep_errno(fd);
	return -1;
}

// boxtui_seal_exe returns an fd on a sealed copy of the running binary, or
// -1 with a reason in msg.
int boxtui_seal_exe(char *msg, size_t msglen) {
	int exefd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (exefd < 0) {
		snprintf(msg, msglen, "open /proc/self/exe: %s", strerror(errno));
		return -1;
	}
	const char *what1 = "", *what2 = "";
	int fd = seal_overlay(exefd, &what1);
	int e1 = errno;
	if (fd < 0 || !boxtui_exe_sealed(fd)) {
		if (fd >= 0) {
			close(fd);
			what1 = "check the overlay";
			e1 = EROFS;
		}
		fd = seal_memfd(exefd, &what2);
		if (fd >= 0 && !boxtui_exe_sealed(fd)) {
			close(fd);
			fd = -1;
			what2 = "check the seals";
			errno = EPERM;
		}
		if (fd < 0)
			snprintf(msg, msglen, "overlay: %s: %s; memfd: %s: %s", what1, strerror(e1), what2,
				 strerror(errno));
	}
	close(exefd);
	return fd;
}

// boxtui_needs_seal is the rule for which invocations start processes
// inside containers: the UI without arguments, exec, run and debug.
// Keep in step with NeedsSeal in exeseal.go.
int boxtui_needs_seal(int argc, char **argv) {
	if (argc < 1)
		return 0;
	if (argc == 1)
		return 1;
	const char *cmd = argv[1];
	return !strcmp(cmd, "exec") || !strcmp(cmd, "run") || !strcmp(cmd, "debug");
}

static int env_off(char **envp) {
	for (char **e = envp; e && *e; e++)
		if (!strcmp(*e, "BOXTUI_EXESEAL=0"))
			return 1;
	return 0;
}

__attribute__((constructor(101))) static void boxtui_exeseal(int argc, char **argv, char **envp) {
	if (!boxtui_needs_seal(argc, argv) || env_off(envp))
		return;
	int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self >= 0 && boxtui_exe_sealed(self)) {
		close(self);
		return;
	}
	if (self >= 0)
		close(self);
	char msg[512];
	int fd = boxtui_seal_exe(msg, sizeof(msg));
	if (fd >= 0) {
		syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
		snprintf(msg, sizeof(msg), "execveat the sealed copy: %s", strerror(errno));
	}
	fprintf(stderr,
		"boxtui: cannot run from a sealed copy of its binary (%s); refusing to start "
		"processes in containers unprotected (BOXTUI_EXESEAL=0 accepts the risk)\n",
		msg);
	_exit(125);
}
