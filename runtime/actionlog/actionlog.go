// Package actionlog records every privileged action boxtui takes on the
// system (launch, stop/kill, exec, bind mounts, rootfs, rm), one line per
// action, so a person can see afterwards what it did to their machine.
//
// The log is /var/log/boxtui/actions.log; when that cannot be written (no
// /var/log, a read-only /var, not root) it falls back to actions.log in the
// state directory ($BOXTUI_RUN_DIR, default /run/boxtui). $BOXTUI_LOG names
// a file to use instead, or "off" to record nothing (tests).
//
// A line looks like
//
//	2026-11-28T15:46:05Z uid=0 pid=4211 action=mount.add target="web:/var/gojek" outcome=ok
//	2026-11-28T15:47:12Z uid=0 pid=4211 action=kill target=web outcome="error: signal 4436: no such process"
//
// (logfmt: values with spaces, quotes or control characters are quoted Go
// style, so a line never breaks). Each line is one write(2) to a file opened
// with O_APPEND, so several boxtui processes can log at once without
// interleaving. Recording never fails the action it records.
//
// The package imports nothing of boxtui, so any runtime package (and the
// CLI and UI) can call it without an import cycle.
package actionlog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
)

// DefaultPath is where the log goes when it can.
const DefaultPath = "/var/log/boxtui/actions.log"

// maxField bounds a target or error text, so one odd value cannot make a
// line unbounded (and a line stays a single small write).
const maxField = 1024

var (
	mu      sync.Mutex
	chosen  string // the path that worked last, "" before the first write
	lastErr error
	now     = time.Now
)

// Logged records action on target and passes err on, so a call site stays
// one line: return actionlog.Logged("kill", target, launch.Stop(c, grace)).
func Logged(action, target string, err error) error {
	Record(action, target, err)
	return err
}

// Record appends one line for action on target: outcome "ok" when err is
// nil, else the error text. It never blocks the caller on a failure to log;
// see Err.
func Record(action, target string, err error) {
	line := format(now(), os.Getuid(), os.Getpid(), action, target, err)
	mu.Lock()
	defer mu.Unlock()
	lastErr = write(candidates(), line)
}

// Err is the error of the last Record, nil if it was written. The UI can
// show it once; the CLI ignores it.
func Err() error {
	mu.Lock()
	defer mu.Unlock()
	return lastErr
}

// Path is the file Record writes to (or would try first), "" when logging
// is off.
func Path() string {
	mu.Lock()
	defer mu.Unlock()
	if chosen != "" && os.Getenv("BOXTUI_LOG") == "" {
		return chosen
	}
	c := candidates()
	if len(c) == 0 {
		return ""
	}
	return c[0]
}

// candidates are the files to try, best first.
func candidates() []string {
	switch env := os.Getenv("BOXTUI_LOG"); env {
	case "off":
		return nil
	case "":
	default:
		return []string{env}
	}
	runDir := os.Getenv("BOXTUI_RUN_DIR") // mirrors state.RunDir, which this package must not import
	if runDir == "" {
		runDir = "/run/boxtui"
	}
	return []string{DefaultPath, filepath.Join(runDir, "actions.log")}
}

// write appends line to the first candidate that takes it. The file is
// opened per line: actions are rare (human speed), and holding no fd means
// no fd leaks into containers boxtui starts.
func write(paths []string, line []byte) error {
	var errs []error
	for _, path := range paths {
		if err := appendLine(path, line); err != nil {
			errs = append(errs, err)
			continue
		}
		if os.Getenv("BOXTUI_LOG") == "" {
			chosen = path
		}
		return nil
	}
	if len(errs) == 0 {
		return nil // logging is off
	}
	return fmt.Errorf("write action log: %w", errors.Join(errs...))
}

func appendLine(path string, line []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	// 0640: the log names containers and paths, readable by root and the
	// adm group's log readers, not by everyone.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o640)
	if err != nil {
		return err
	}
	_, werr := f.Write(line)
	cerr := f.Close()
	if werr != nil {
		return fmt.Errorf("append to %s: %w", path, werr)
	}
	return cerr
}

// format builds one log line, newline included.
func format(t time.Time, uid, pid int, action, target string, err error) []byte {
	outcome := "ok"
	if err != nil {
		outcome = "error: " + err.Error()
	}
	var b strings.Builder
	b.WriteString(t.UTC().Format(time.RFC3339))
	b.WriteString(" uid=")
	b.WriteString(strconv.Itoa(uid))
	b.WriteString(" pid=")
	b.WriteString(strconv.Itoa(pid))
	b.WriteString(" action=")
	b.WriteString(value(action))
	b.WriteString(" target=")
	b.WriteString(value(target))
	b.WriteString(" outcome=")
	b.WriteString(value(outcome))
	b.WriteByte('\n')
	return []byte(b.String())
}

// value quotes s when it would otherwise be ambiguous in logfmt.
func value(s string) string {
	if len(s) > maxField {
		s = strings.ToValidUTF8(s[:maxField], "") + "..."
	}
	if s == "" {
		return `""`
	}
	for _, r := range s {
		if r == '"' || r == '=' || r == '\\' || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}
