// history.h: fastexec.c's writer of a container's history, the C twin of
// events.Record: JSON strings as encoding/json writes them, one line per
// event, appended with one write (TestJSONStringMatchesGo,
// TestEventLineMatchesGo, TestEventLinesMatchGoPath). Included once, by
// fastexec.c: its functions are static.

// utf8_len is the length of the valid UTF-8 sequence at p, or 0 for an
// invalid one (a stray or missing continuation byte, an overlong form, a
// surrogate, past U+10FFFF): Go's utf8.DecodeRune returning RuneError, 1.
static size_t utf8_len(const unsigned char *p) {
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t k = 2; k < n; k++)
		if (p[k] < 0x80 || p[k] > 0xbf)
			return 0;
	return n;
}

// json_str appends s to buf (of size bytes; nothing past it is written)
// as a JSON string exactly the way encoding/json's Marshal writes it: ",
// \ and controls escaped (\b \f \n \r \t short, the rest \u00XX), <, >
// and & as \u003c \u003e \u0026, invalid UTF-8 as \ufffd for each bad
// byte, U+2028 and U+2029 as \u2028 and \u2029. It returns the offset
// after the string, which may pass size: then the caller's buffer was too
// small.
static size_t json_str(char *buf, size_t off, size_t size, const char *s) {
	static const char hex[] = "0123456789abcdef";
	if (off < size)
		buf[off] = '"';
	off++;
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		char esc[8];
		size_t n = 1, adv = 1;
		esc[0] = (char)*p;
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			n = 2;
		} else if (*p == '\b' || *p == '\f' || *p == '\n' || *p == '\r' || *p == '\t') {
			esc[0] = '\\';
			esc[1] = *p == '\b' ? 'b' : *p == '\f' ? 'f' : *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
			n = 2;
		} else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&') {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 15];
			n = 6;
		} else if (*p >= 0x80) {
			adv = utf8_len(p);
			if (adv == 0) {
				memcpy(esc, "\\ufffd", 6);
				n = 6;
				adv = 1;
			} else if (adv == 3 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
				memcpy(esc, "\\u202", 5);
				esc[5] = p[2] == 0xa8 ? '8' : '9';
				n = 6;
			} else {
				memcpy(esc, p, adv);
				n = adv;
			}
		}
		for (size_t k = 0; k < n; k++, off++)
			if (off < size)
				buf[off] = esc[k];
		p += adv;
	}
	if (off < size)
		buf[off] = '"';
	return off + 1;
}

// self_start is this process's start time, read while /proc is still the
// host's (before any setns or chroot): exec-opened names this process.
static unsigned long long self_start;

// event_line builds one history line as events.Record marshals an
// Event, into a buffer of its own size (never cut short: the Go path
// records any command line whole, and so must this one). NULL if out of
// memory. tail ends the object (the "by" field and what follows).
static char *event_line(const char *stamp, const char *key, const char *kind, const char *detail,
			const char *tail, size_t *len) {
	size_t taillen = strlen(tail);
	size_t need = 0;
	for (int pass = 0; pass < 2; pass++) {
		char *buf = pass ? malloc(need) : NULL;
		if (pass && !buf)
			return NULL;
		size_t size = pass ? need : 0, off = 0;
		off += (size_t)snprintf(buf, size, "{\"time\":\"%s\",\"container\":", stamp);
		off = json_str(buf, off, size, key);
		off += (size_t)snprintf(pass ? buf + off : NULL, pass ? size - off : 0, ",\"kind\":\"%s\",\"detail\":", kind);
		off = json_str(buf, off, size, detail);
		if (pass)
			memcpy(buf + off, tail, taillen + 1);
		off += taillen;
		if (pass) {
			*len = off;
			return buf;
		}
		need = off + 1;
	}
	return NULL;
}

// record appends one event line with a single write to the O_APPEND fd, as
// events.Record does. History is informative: failures are ignored,
// but reported (-1) so that no exec-closed follows a lost exec-opened.
static int record(int fd, const char *key, const char *kind, const char *detail) {
	if (fd < 0)
		return -1;
	char stamp[64], frac[16];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	// RFC 3339 with nanoseconds, trailing zeros dropped, as Go's time does.
	frac[0] = 0;
	if (ts.tv_nsec) {
		snprintf(frac, sizeof(frac), ".%09ld", ts.tv_nsec);
		for (size_t n = strlen(frac); frac[n - 1] == '0'; n--)
			frac[n - 1] = 0;
	}
	snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
	// An exec-opened names this process, which records the exec-closed:
	// if it dies first, readers and the holder close the exec for it.
	char tail[128];
	if (!strcmp(kind, "exec-opened") && self_start)
		snprintf(tail, sizeof(tail), ",\"by\":\"boxtui exec\",\"client_pid\":%d,\"client_start\":%llu}\n",
			 (int)getpid(), self_start);
	else
		snprintf(tail, sizeof(tail), ",\"by\":\"boxtui exec\"}\n");
	size_t len;
	char *line = event_line(stamp, key, kind, detail, tail, &len);
	if (!line)
		return -1;
	ssize_t n = write(fd, line, len);
	free(line);
	return n == (ssize_t)len ? 0 : -1;
}
