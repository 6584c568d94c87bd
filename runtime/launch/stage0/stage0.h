// stage0.h: what the C files of package stage0 share.
#ifndef BOXTUI_STAGE0_H
#define BOXTUI_STAGE0_H

// boxtui_run_init (initstage.c) is the init's work as PID 1 of its new
// namespaces, fds 0-2 the console, 3 the ready pipe, 4 the go pipe. It
// execs the command or exits; it never returns.
void boxtui_run_init(const char *rootfs, const char *hostname, long nenv, char **envv, char **cmd)
	__attribute__((noreturn));

// boxtui_is_pipe reports whether fd is an open pipe.
int boxtui_is_pipe(int fd);

// boxtui_zygote_start (zygote.c) forks the zygote that will clone the
// init once a config arrives on cfg_fd; go_fd becomes the init's go pipe.
int boxtui_zygote_start(int go_fd, int cfg_fd);

// boxtui_close_fds (closefds.c) closes every fd from `from` up but the n
// in keep (ascending), with close_range or, where that fails, one by one.
void boxtui_close_fds(int from, const int *keep, int n);

#endif
