// stage.h: the enter stage's config block and the hook that a profile
// (exec as the engine would) plugs in. See enterstage.c and package stage.
#ifndef BOXTUI_STAGE_H
#define BOXTUI_STAGE_H

#include <stdint.h>

// argv[1] of the stage; keep in step with stage.Name.
#define BX_STAGE_ARG "__boxtui-enter"
// The stage's inherited descriptors: the config block (read to EOF) and
// the status pipe (close-on-exec: EOF with nothing written means the
// command runs; else "notfound\nCMD" or "error\nMESSAGE").
#define BX_STAGE_CONFIG_FD 3
#define BX_STAGE_STATUS_FD 4

// Records of the config block: tag (u32), length (u32), payload, in the
// machine's byte order. Numbers are u32; strings end with their only NUL.
// A record the stage does not know, a short one, or a block without END
// is refused: nothing is joined.
enum bx_tag {
	BX_END = 0,	  // last record; nothing may follow
	BX_TARGET = 1,	  // u32: host PID entered (for messages)
	BX_NS = 2,	  // u32 fd, u32 CLONE_NEW* flag; joined in the order given
	BX_ROOT = 3,	  // u32 fd: O_PATH on the root to chroot to
	BX_CWD = 4,	  // u32 fd: O_PATH on the working directory
	BX_DIR = 5,	  // string: -w, relative to the cwd (or "/")
	BX_ENV = 6,	  // string KEY=VALUE: the command's environment, in order
	BX_ARG = 7,	  // string: the command's argv, in order; none: the shell
	BX_SETID = 8,	  // u32 uid, u32 gid: become them after joining
	BX_MOUNTPROC = 9, // empty: a mount namespace of its own with a fresh /proc
	// 64 and up: the profile's (boxtui_stage_profile_record).
	BX_PROFILE_FIRST = 64,
};

#define BX_MAX_NS 16 // keep in step with stage.MaxNS

struct bx_stage {
	int target;
	struct {
		int fd, flag;
		const char *name;
	} ns[BX_MAX_NS];
	int nns;
	int rootfd, cwdfd;
	const char *dir;
	char **env; // NULL-terminated
	int nenv;
	char **argv; // NULL-terminated
	int nargv;
	int setid;
	uint32_t uid, gid;
	int mountproc;
	void *profile; // the profile's own state, set by its record hook
};

// Hooks, weak: a profile's C file defines them to extend the stage.
//
// boxtui_stage_profile_record is called for each record with a tag of
// BX_PROFILE_FIRST or more, while the block is parsed (nothing joined
// yet); it returns 0 if it took the record, -1 to refuse the block.
int boxtui_stage_profile_record(struct bx_stage *s, uint32_t tag, const unsigned char *p, uint32_t len);
// boxtui_stage_apply_profile runs once every namespace is joined, the root
// and working directory are set and BX_SETID applied, right before the
// command is looked up and executed. It returns 0, or calls bx_stage_fail.
int boxtui_stage_apply_profile(struct bx_stage *s);

// bx_stage_fail reports a failure to boxtui on the status pipe ("error"
// kind, the message printf-formatted) and exits.
__attribute__((noreturn, format(printf, 1, 2))) void bx_stage_fail(const char *fmt, ...);

#endif
