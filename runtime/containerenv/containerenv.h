// containerenv.h: the environment a command in a container starts with,
// for the C stages (fastexec.c, enterstage.c, initstage.c). It is the C
// copy of package containerenv (containerenv.go), and its cshim's tests
// hold the two equal: the PATH string, and the lookup on the same trees.
#ifndef BOXTUI_CONTAINERENV_H
#define BOXTUI_CONTAINERENV_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

// BX_CONTAINER_PATH is containerenv.Path.
#define BX_CONTAINER_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// bx_executable is containerenv.Executable with stat(2): a regular file
// with an execute bit.
static inline int bx_executable(const char *path) {
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

// bx_look_path is containerenv.LookPath: the command name as a shell
// finds it, a name with a slash as it is (if executable), any other in
// each directory of path (an empty one: the working directory), joined
// as they are. The path tried is built in resolved (size bytes); one that
// does not fit is skipped, as the kernel would refuse it (ENAMETOOLONG),
// never cut short. NULL when nothing executable was found.
static inline const char *bx_look_path(const char *name, const char *path, char *resolved, size_t size) {
	if (!*name)
		return NULL;
	if (strchr(name, '/'))
		return bx_executable(name) ? name : NULL;
	for (;;) {
		const char *end = strchrnul(path, ':');
		int n = (int)(end - path);
		int w = n == 0 ? snprintf(resolved, size, "%s", name) : snprintf(resolved, size, "%.*s/%s", n, path, name);
		if (w > 0 && (size_t)w < size && bx_executable(resolved))
			return resolved;
		if (!*end)
			return NULL;
		path = end + 1;
	}
}

// bx_shell is containerenv.Shell: the first of /bin/bash and /bin/sh that
// is executable, or NULL.
static inline const char *bx_shell(void) {
	return bx_executable("/bin/bash") ? "/bin/bash" : bx_executable("/bin/sh") ? "/bin/sh" : NULL;
}

#endif
