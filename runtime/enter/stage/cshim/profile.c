// profile.c: a test profile for the enter stage's hooks (stage.h), as the
// exec-as-the-engine profile will plug in. Only this shim links it; the
// boxtui binary keeps the stage's weak defaults.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "stage.h"

// Tag 64: a string the apply hook puts in the command's environment as
// BOXTUI_TEST_PROFILE. Tag 65: the apply hook fails. Tag 66: the apply
// hook reports whether the process is dumpable as BOXTUI_TEST_DUMPABLE.
static char profile_env[256], dumpable_env[64];
static int profile_fail, report_dumpable;

int boxtui_stage_profile_record(struct bx_stage *s, uint32_t tag, const unsigned char *p, uint32_t len) {
	if (tag == 64 && len > 0 && len < sizeof(profile_env) - 32 && memchr(p, 0, len) == p + len - 1) {
		strcpy(profile_env, "BOXTUI_TEST_PROFILE=");
		strcat(profile_env, (const char *)p);
		s->profile = profile_env;
		return 0;
	}
	if (tag == 65 && len == 0) {
		profile_fail = 1;
		return 0;
	}
	if (tag == 66 && len == 0) {
		report_dumpable = 1;
		return 0;
	}
	return -1;
}

int boxtui_stage_apply_profile(struct bx_stage *s) {
	if (profile_fail)
		bx_stage_fail("test profile: refused on purpose");
	if (s->profile)
		s->env[s->nenv++] = s->profile; // the parser leaves a slot per record
	if (report_dumpable) {
		snprintf(dumpable_env, sizeof(dumpable_env), "BOXTUI_TEST_DUMPABLE=%d", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
		s->env[s->nenv++] = dumpable_env;
	}
	return 0;
}
