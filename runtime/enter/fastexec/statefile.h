// statefile.h: fastexec.c's reader of a container's state file
// (RUNDIR/NAME/state.json, state.State), the C twin of state.Load
// as discovery.FindInit uses it for a name.
//
// The rule is that of the whole fast path: act only on what is fully
// checked. So this reader accepts a state only where state.Decode
// would read the same one: the whole document is checked as JSON, every
// field state.State has must have the type Go gives it, and anything
// Go reads in a way this small reader does not (a key in another case or
// with an escape, which encoding/json would match to a field; a
// duplicate; deep nesting; a very large file) declines, and Go decides.
// Where it accepts, the init's PID and start time are the ones Go reads.
// The cshim fuzzes exactly that: C accepts => Go accepts, the same.
#ifndef BOXTUI_STATEFILE_H
#define BOXTUI_STATEFILE_H

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

// A state file larger than this is left to Go (boxtui writes ~1 KiB).
#define BX_STATE_MAX 65536
// Nesting deeper than this (objects and arrays) is left to Go.
#define BX_STATE_DEPTH 16

// bx_valid_name is state.ValidateName: 1-64 of letters, digits, '-',
// '_' and '.', starting with a letter or digit, and not a name the state
// directory keeps for itself.
static int bx_valid_name(const char *s) {
	size_t n = strlen(s);
	if (n == 0 || n > 64 || !strcmp(s, "events") || !strcmp(s, "mounts"))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && !(i > 0 && (c == '-' || c == '_' || c == '.')))
			return 0;
	}
	return 1;
}

struct bx_json {
	const char *p, *end;
	int depth;
};

static void bx_ws(struct bx_json *j) {
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int bx_lit(struct bx_json *j, const char *lit) {
	size_t n = strlen(lit);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n))
		return -1;
	j->p += n;
	return 0;
}

// bx_string checks a JSON string as encoding/json reads it (no control
// characters, only JSON's escapes; bytes that are not UTF-8 are Go's
// business, not an error) and returns its raw bytes between the quotes,
// with *escaped set when it holds an escape.
static int bx_string(struct bx_json *j, const char **s, size_t *n, int *escaped) {
	if (j->p >= j->end || *j->p != '"')
		return -1;
	const char *start = ++j->p;
	*escaped = 0;
	while (j->p < j->end && *j->p != '"') {
		unsigned char c = (unsigned char)*j->p;
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			*escaped = 1;
			if (++j->p >= j->end)
				return -1;
			if (*j->p == 'u') {
				for (int k = 1; k <= 4; k++)
					if (j->p + k >= j->end || !isxdigit((unsigned char)j->p[k]))
						return -1;
				j->p += 4;
			} else if (!strchr("\"\\/bfnrt", *j->p) || !*j->p) {
				return -1;
			}
		}
		j->p++;
	}
	if (j->p >= j->end)
		return -1;
	*s = start;
	*n = (size_t)(j->p - start);
	j->p++;
	return 0;
}

// bx_number checks a JSON number and returns its bytes.
static int bx_number(struct bx_json *j, const char **s, size_t *n) {
	const char *p = j->p;
	*s = p;
	if (p < j->end && *p == '-')
		p++;
	if (p >= j->end || !isdigit((unsigned char)*p))
		return -1;
	if (*p == '0')
		p++;
	else
		while (p < j->end && isdigit((unsigned char)*p))
			p++;
	if (p < j->end && *p == '.') {
		if (++p >= j->end || !isdigit((unsigned char)*p))
			return -1;
		while (p < j->end && isdigit((unsigned char)*p))
			p++;
	}
	if (p < j->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < j->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= j->end || !isdigit((unsigned char)*p))
			return -1;
		while (p < j->end && isdigit((unsigned char)*p))
			p++;
	}
	*n = (size_t)(p - *s);
	j->p = p;
	return 0;
}

// bx_value checks any JSON value and skips it.
static int bx_value(struct bx_json *j) {
	const char *s;
	size_t n;
	int esc;
	bx_ws(j);
	if (j->p >= j->end)
		return -1;
	switch (*j->p) {
	case '"':
		return bx_string(j, &s, &n, &esc);
	case 't':
		return bx_lit(j, "true");
	case 'f':
		return bx_lit(j, "false");
	case 'n':
		return bx_lit(j, "null");
	case '[':
	case '{': {
		char close = *j->p == '[' ? ']' : '}';
		int object = close == '}';
		if (++j->depth > BX_STATE_DEPTH)
			return -1;
		j->p++;
		bx_ws(j);
		if (j->p < j->end && *j->p == close) {
			j->p++;
			j->depth--;
			return 0;
		}
		for (;;) {
			if (object) {
				bx_ws(j);
				if (bx_string(j, &s, &n, &esc))
					return -1;
				bx_ws(j);
				if (j->p >= j->end || *j->p++ != ':')
					return -1;
			}
			if (bx_value(j))
				return -1;
			bx_ws(j);
			if (j->p >= j->end)
				return -1;
			if (*j->p == close) {
				j->p++;
				j->depth--;
				return 0;
			}
			if (*j->p++ != ',')
				return -1;
		}
	}
	default:
		return bx_number(j, &s, &n);
	}
}

// The types encoding/json gives state.State's and MountRecord's fields.
enum bx_kind { BX_STR, BX_BOOL, BX_INT, BX_UINT, BX_TIME, BX_STRS, BX_MOUNTS };

struct bx_field {
	const char *key;
	enum bx_kind kind;
};

static const struct bx_field bx_state_fields[] = {
	{"name", BX_STR},	 {"rootfs", BX_STR},	     {"command", BX_STRS},     {"hostname", BX_STR},
	{"net", BX_BOOL},	 {"remove", BX_BOOL},	     {"status", BX_STR},       {"created", BX_TIME},
	{"claim_pid", BX_INT},	 {"claim_start", BX_UINT},   {"init_pid", BX_INT},     {"init_start", BX_UINT},
	{"holder_pid", BX_INT},	 {"holder_start", BX_UINT},  {"exited", BX_TIME},      {"exit_code", BX_INT},
	{"exit_signal", BX_STR}, {"mounts", BX_MOUNTS},	     {NULL, 0},
};

static const struct bx_field bx_mount_fields[] = {
	{"source", BX_STR}, {"target", BX_STR}, {"readonly", BX_BOOL}, {"mnt_ns", BX_UINT}, {NULL, 0},
};

// bx_digits is the value of the digits s[0..n), or -1 when they are not
// all digits or pass LLONG_MAX (a larger uint64 is left to Go).
static long long bx_digits(const char *s, size_t n) {
	if (n == 0)
		return -1;
	long long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		int d = s[i] - '0';
		if (v > (LLONG_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	return v;
}

// bx_time checks the strict RFC 3339 form time.Time's JSON has
// (2006-01-02T15:04:05.999999999Z07:00), with every part in range.
static int bx_time(const char *s, size_t n) {
	static const char form[] = "dddd-dd-ddTdd:dd:dd";
	if (n < 20)
		return -1;
	for (size_t i = 0; i < 19; i++)
		if (form[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != form[i])
			return -1;
	long long y = bx_digits(s, 4), mo = bx_digits(s + 5, 2), d = bx_digits(s + 8, 2);
	long long h = bx_digits(s + 11, 2), mi = bx_digits(s + 14, 2), se = bx_digits(s + 17, 2);
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (mo < 1 || mo > 12 || h > 23 || mi > 59 || se > 59 || d < 1)
		return -1;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[mo - 1] + (mo == 2 && leap))
		return -1;
	size_t i = 19;
	if (s[i] == '.') {
		size_t f = ++i;
		while (i < n && isdigit((unsigned char)s[i]))
			i++;
		if (i == f || i - f > 9)
			return -1;
	}
	if (i < n && s[i] == 'Z')
		return i + 1 == n ? 0 : -1;
	if (n - i != 6 || (s[i] != '+' && s[i] != '-') || s[i + 3] != ':' || bx_digits(s + i + 1, 2) > 23 ||
	    bx_digits(s + i + 4, 2) > 59 || bx_digits(s + i + 1, 2) < 0 || bx_digits(s + i + 4, 2) < 0)
		return -1;
	return 0;
}

// bx_typed reads a value of kind k, as encoding/json would into the
// field's Go type: *num is set for BX_INT and BX_UINT, *str and *len for
// BX_STR (raw, with *esc). null is a zero value for every kind, as in Go
// (*isnull set).
static int bx_object(struct bx_json *j, const struct bx_field *fields, const char **vals, size_t *lens,
		     long long *nums, int *seen, int *nulls);

static int bx_typed(struct bx_json *j, enum bx_kind k, const char **str, size_t *len, long long *num, int *isnull) {
	const char *s;
	size_t n;
	int esc;
	bx_ws(j);
	*isnull = 0;
	if (j->p < j->end && *j->p == 'n') {
		*isnull = 1;
		return bx_lit(j, "null");
	}
	switch (k) {
	case BX_STR:
		if (bx_string(j, str, len, &esc))
			return -1;
		return esc ? 1 : 0; // 1: valid, but holds an escape
	case BX_BOOL:
		return j->p < j->end && *j->p == 't' ? bx_lit(j, "true") : bx_lit(j, "false");
	case BX_INT:
	case BX_UINT:
		if (bx_number(j, &s, &n))
			return -1;
		*num = s[0] == '-' ? (k == BX_UINT ? -1 : bx_digits(s + 1, n - 1)) : bx_digits(s, n);
		if (*num < 0 || (s[0] == '-' && *num == 0 && k == BX_UINT))
			return -1; // a fraction, an exponent, too long, or "-" for a uint64
		if (s[0] == '-')
			*num = -*num;
		return 0;
	case BX_TIME:
		if (bx_string(j, &s, &n, &esc) || esc)
			return -1;
		return bx_time(s, n);
	case BX_STRS:
	case BX_MOUNTS:
		if (j->p >= j->end || *j->p != '[' || ++j->depth > BX_STATE_DEPTH)
			return -1;
		j->p++;
		bx_ws(j);
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			j->depth--;
			return 0;
		}
		for (;;) {
			bx_ws(j);
			if (k == BX_STRS) {
				if (bx_string(j, &s, &n, &esc))
					return -1;
			} else {
				const char *vals[4];
				size_t lens[4];
				long long nums[4];
				int seen[4], nulls[4];
				if (bx_object(j, bx_mount_fields, vals, lens, nums, seen, nulls))
					return -1;
			}
			bx_ws(j);
			if (j->p >= j->end)
				return -1;
			if (*j->p == ']') {
				j->p++;
				j->depth--;
				return 0;
			}
			if (*j->p++ != ',')
				return -1;
		}
	}
	return -1;
}

// bx_object reads an object of the given fields: each at most once, in its
// exact case, of its type; other keys (plain ASCII, no escape, matching no
// field in any case) skipped as Go skips them. vals/lens/nums/seen/nulls
// are indexed as fields. It returns -1 for anything else.
static int bx_object(struct bx_json *j, const struct bx_field *fields, const char **vals, size_t *lens,
		     long long *nums, int *seen, int *nulls) {
	int nf = 0;
	while (fields[nf].key)
		nf++;
	for (int i = 0; i < nf; i++)
		seen[i] = nulls[i] = 0, vals[i] = NULL, lens[i] = 0, nums[i] = 0;
	bx_ws(j);
	if (j->p >= j->end || *j->p != '{' || ++j->depth > BX_STATE_DEPTH)
		return -1;
	j->p++;
	bx_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		const char *key;
		size_t kn;
		int esc;
		bx_ws(j);
		if (bx_string(j, &key, &kn, &esc) || esc)
			return -1;
		for (size_t i = 0; i < kn; i++)
			if ((unsigned char)key[i] >= 0x80)
				return -1; // encoding/json folds some to ASCII (ſ, K)
		bx_ws(j);
		if (j->p >= j->end || *j->p++ != ':')
			return -1;
		int f = -1;
		for (int i = 0; i < nf; i++)
			if (strlen(fields[i].key) == kn && !strncasecmp(fields[i].key, key, kn)) {
				if (strncmp(fields[i].key, key, kn) || seen[i])
					return -1; // another case, or twice: Go's last one wins
				f = i;
			}
		if (f < 0) {
			if (bx_value(j))
				return -1;
		} else {
			seen[f] = 1;
			int r = bx_typed(j, fields[f].kind, &vals[f], &lens[f], &nums[f], &nulls[f]);
			if (r < 0)
				return -1;
			if (r > 0)
				vals[f] = NULL; // a string with an escape: its value unknown here
		}
		bx_ws(j);
		if (j->p >= j->end)
			return -1;
		if (*j->p == '}') {
			j->p++;
			j->depth--;
			return 0;
		}
		if (*j->p++ != ',')
			return -1;
	}
}

// bx_state_doc reads the init of container name from its state document
// doc (len bytes): 0 with *pid and *start when it says the container runs,
// -1 otherwise (and whenever in doubt).
static int bx_state_doc(const char *doc, size_t len, const char *name, int *pid, unsigned long long *start) {
	enum { NAME = 0, STATUS = 6, INIT_PID = 10, INIT_START = 11, HOLDER_PID = 12, NFIELDS = 18 };
	const char *vals[NFIELDS];
	size_t lens[NFIELDS];
	long long nums[NFIELDS];
	int seen[NFIELDS], nulls[NFIELDS];
	struct bx_json j = {doc, doc + len, 0};
	if (bx_object(&j, bx_state_fields, vals, lens, nums, seen, nulls))
		return -1;
	bx_ws(&j);
	if (j.p != j.end)
		return -1; // Go would read only the first value: leave it to Go
	if (!vals[NAME] || lens[NAME] != strlen(name) || memcmp(vals[NAME], name, lens[NAME]))
		return -1;
	if (!vals[STATUS] || lens[STATUS] != 7 || memcmp(vals[STATUS], "running", 7))
		return -1;
	if (!seen[INIT_PID] || nulls[INIT_PID] || nums[INIT_PID] <= 0 || nums[INIT_PID] > 1 << 30)
		return -1;
	if (!seen[INIT_START] || nulls[INIT_START] || nums[HOLDER_PID] < 0)
		return -1;
	*pid = (int)nums[INIT_PID];
	*start = (unsigned long long)nums[INIT_START];
	return 0;
}

// bx_state_init reads the init's PID and start time from NAME's state in
// rundir, if it says the container runs: bx_state_doc of the file.
static int bx_state_init(const char *rundir, const char *name, int *pid, unsigned long long *start) {
	char path[PATH_MAX];
	static char doc[BX_STATE_MAX + 1];
	int n = snprintf(path, sizeof(path), "%s/%s/state.json", rundir, name);
	if (n < 0 || (size_t)n >= sizeof(path) || !bx_valid_name(name))
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	size_t off = 0;
	for (;;) {
		ssize_t got = read(fd, doc + off, sizeof(doc) - off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		off += (size_t)got;
		if (off == sizeof(doc))
			break;
	}
	close(fd);
	if (off == 0 || off == sizeof(doc))
		return -1; // empty, or larger than BX_STATE_MAX
	return bx_state_doc(doc, off, name, pid, start);
}

#endif
