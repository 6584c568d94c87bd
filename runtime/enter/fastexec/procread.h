// procread.h: fastexec.c's readers of /proc (namespace links, status,
// stat) and of a TARGET, each held to its Go twin by the cshim
// (TestProcParsersMatchGo, TestTargetKindMatchesGo). Included once, by
// fastexec.c, after its test hooks: its functions are static.

// ns_inode is the inode of a namespace link, or 0 with errno set.
static unsigned long long ns_inode(const char *path) {
	struct stat st;
	if (stat(path, &st) != 0)
		return 0;
	return (unsigned long long)st.st_ino;
}

static unsigned long long proc_ns(int pid, const char *type) {
	char path[64];
	const char *hide = hook_str("BOXTUI_TEST_HIDE_NS");
	if (pid > 0 && hide && !strcmp(hide, type)) {
		errno = EACCES; // as for a link we may not read
		return 0;
	}
	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, type);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/%s", type);
	return ns_inode(path);
}

// ns_pair reads the target's and our own link of one namespace type: 0
// with both inodes, 1 when neither exists (a kernel without that type),
// -1 when either cannot be read. Skipping an unreadable link would join
// the others only: a partial entry that nobody asked for.
static int ns_pair(int pid, const char *type, unsigned long long *theirs, unsigned long long *ours) {
	*theirs = proc_ns(pid, type);
	int terr = errno;
	*ours = proc_ns(0, type);
	int oerr = errno;
	if (*theirs && *ours)
		return 0;
	if (!*theirs && !*ours && terr == ENOENT && oerr == ENOENT)
		return 1;
	return -1;
}

static ssize_t read_small(const char *path, char *buf, size_t size) {
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t off = 0;
	while (off + 1 < size) {
		ssize_t n = read(fd, buf + off, size - 1 - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = 0;
	return (ssize_t)off;
}

// digits reports whether s[0..n) is 1 to max decimal digits, optionally
// after a '-' when sign is set.
static int digits(const char *s, size_t n, size_t max, int sign) {
	if (sign && n > 0 && *s == '-')
		s++, n--;
	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

// parse_status reads PPid and the innermost NSpid of a /proc/PID/status
// text (len bytes) as procfs.ParseStatus reads them, for readStatusOf:
// 0, or -1 for anything Go would refuse or read another way (the kernel's
// text always passes). Go refuses the whole text for a bad PPid, NSpid,
// Uid, SigCgt or SigBlk, so those are all checked; a text without its
// final newline was cut short.
static int parse_status(const char *buf, size_t len, long *ppid, long *inner) {
	static const char *const keys[] = {"PPid:\t", "NSpid:\t", "Uid:\t", "SigCgt:\t", "SigBlk:\t"};
	int seen[5] = {0};
	if (len == 0 || buf[len - 1] != '\n' || memchr(buf, 0, len))
		return -1;
	*ppid = *inner = -1;
	for (const char *line = buf, *end; line < buf + len; line = end + 1) {
		end = memchr(line, '\n', (size_t)(buf + len - line));
		for (int k = 0; k < 5; k++) {
			size_t kl = strlen(keys[k]);
			if ((size_t)(end - line) < kl - 1 || memcmp(line, keys[k], kl - 1))
				continue;
			if (seen[k]++ || (size_t)(end - line) < kl || line[kl - 1] != '\t')
				return -1; // twice (Go takes the last), or not as the kernel writes it
			const char *v = line + kl;
			size_t vl = (size_t)(end - v);
			if (k == 0) { // PPid: one number
				if (!digits(v, vl, 9, 0))
					return -1;
				*ppid = strtol(v, NULL, 10);
			} else if (k == 1) { // NSpid: tab-separated PIDs, each > 0
				for (const char *t = v, *te; t <= end; t = te + 1) {
					te = memchr(t, '\t', (size_t)(end - t));
					if (!te)
						te = end;
					if (!digits(t, (size_t)(te - t), 9, 0) || (*inner = strtol(t, NULL, 10)) <= 0)
						return -1;
				}
			} else if (k == 2) { // Uid: the first of its numbers
				const char *te = memchr(v, '\t', vl);
				if (!digits(v, te ? (size_t)(te - v) : vl, 10, 0))
					return -1;
			} else { // SigCgt, SigBlk: 64 bits in hex
				if (vl == 0 || vl > 16)
					return -1;
				for (size_t i = 0; i < vl; i++)
					if (!isxdigit((unsigned char)v[i]))
						return -1;
			}
		}
	}
	return (*ppid >= 0 && *inner > 0) ? 0 : -1;
}

// parse_stat reads the state letter and start time (field 22) of a
// /proc/PID/stat text as procfs.ParseStat does: the command name up to
// the last ')', then the fields, which Go wants at least up to 24 and
// numbers in 4, 14, 15, 22 and 24. 0, or -1 for anything Go would refuse
// or read another way (the kernel's text always passes).
static int parse_stat(const char *buf, size_t len, char *state, unsigned long long *start) {
	if (len == 0 || memchr(buf, 0, len))
		return -1;
	const char *open = memchr(buf, '(', len), *close = memrchr(buf, ')', len);
	if (!open || !close || close < open || open == buf || open[-1] != ' ' || !digits(buf, (size_t)(open - 1 - buf), 9, 0))
		return -1;
	const char *p = close + 1, *end = buf + len;
	if (end[-1] == '\n')
		end--;
	if (p >= end || *p != ' ')
		return -1;
	int field = 3;
	for (p++; p <= end; field++) {
		const char *te = memchr(p, ' ', (size_t)(end - p));
		if (!te)
			te = end;
		size_t n = (size_t)(te - p);
		if (field == 3) {
			if (n != 1 || !isalpha((unsigned char)*p))
				return -1;
			*state = *p;
		} else if (field == 14 || field == 15 || field == 22 ? !digits(p, n, 19, 0) // uint64
			   : field == 4 || field == 24		     ? !digits(p, n, 18, 1)   // int
								     : !digits(p, n, 20, 1)) {
			return -1; // every field after the state is a number
		} else if (field == 22) {
			errno = 0;
			*start = strtoull(p, NULL, 10);
			if (errno)
				return -1;
		}
		p = te + 1;
	}
	return field > 24 ? 0 : -1;
}

// status_of reads PPid and the innermost NSpid of pid.
static int status_of(int pid, long *ppid, long *inner) {
	char path[64], buf[8192];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	ssize_t n = read_small(path, buf, sizeof(buf));
	if (n <= 0 || (size_t)n == sizeof(buf) - 1)
		return -1; // nothing, or perhaps cut short: left to Go
	return parse_status(buf, (size_t)n, ppid, inner);
}

// stat_of reads the state letter and start time (field 22) of pid.
static int stat_of(int pid, char *state, unsigned long long *start) {
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	ssize_t n = read_small(path, buf, sizeof(buf));
	if (n <= 0 || (size_t)n == sizeof(buf) - 1)
		return -1;
	return parse_stat(buf, (size_t)n, state, start);
}

static int all_digits(const char *s) { return digits(s, strlen(s), 9, 0); }

// target_kind says how discovery.FindInit reads a TARGET: 1 for a host PID
// (in *pid), 0 for a name, -1 for what the fast path leaves to Go (a
// number strconv.Atoi takes that is no PID here, anything else that is no
// valid name).
static int target_kind(const char *t, int *pid) {
	if (all_digits(t)) {
		*pid = atoi(t);
		return *pid > 0 ? 1 : -1;
	}
	if (t[strspn(t, "0123456789")] == 0 || ((t[0] == '+' || t[0] == '-') && t[1] && !t[1 + strspn(t + 1, "0123456789")]))
		return -1; // a number all the same, to Go
	return bx_valid_name(t) ? 0 : -1;
}
