// shim.c: containerenv.h's functions, callable from Go (test only).
#define _GNU_SOURCE
#include "containerenv.h"

const char *boxtui_shim_container_path(void) { return BX_CONTAINER_PATH; }

const char *boxtui_shim_look_path(const char *name, const char *path, char *resolved, size_t size) {
	return bx_look_path(name, path, resolved, size);
}

const char *boxtui_shim_shell(void) { return bx_shell(); }
