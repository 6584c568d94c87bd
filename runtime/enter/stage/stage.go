package stage

import (
	"encoding/binary"
	"strings"
)

// Name is the stage's argv[1] (stage.h: BX_STAGE_ARG).
const Name = "__boxtui-enter"

// The stage's inherited descriptors (os/exec ExtraFiles start at 3): the
// config block, read to EOF, and the status pipe, closed on exec. Every
// other descriptor the block names comes after them.
const (
	ConfigFD = 3
	StatusFD = 4
	FirstFD  = 5
)

// Status lines the stage writes before exiting on failure: "notfound\n"
// and the command, or "error\n" and the message.
const (
	StatusNotFound = "notfound\n"
	StatusError    = "error\n"
)

// Record tags (stage.h: enum bx_tag).
const (
	TagEnd       uint32 = 0
	TagTarget    uint32 = 1
	TagNS        uint32 = 2
	TagRoot      uint32 = 3
	TagCwd       uint32 = 4
	TagDir       uint32 = 5
	TagEnv       uint32 = 6
	TagArg       uint32 = 7
	TagSetID     uint32 = 8
	TagMountProc uint32 = 9
	// ProfileFirst is the first tag of a profile's records: the stage
	// hands them to boxtui_stage_profile_record, and refuses the block
	// when no profile takes them.
	ProfileFirst uint32 = 64
)

// MaxNS is how many namespace records the stage takes (stage.h: BX_MAX_NS).
const MaxNS = 16

// NS is one namespace to join: an fd as the stage sees it and its
// CLONE_NEW* flag.
type NS struct {
	FD   int
	Flag uint32
}

// Record is a raw record, for a profile's tags.
type Record struct {
	Tag     uint32
	Payload []byte
}

// Config is what the stage does, in its order: join NS (the user
// namespace last, whatever its place here), then either chroot to Root,
// change to Cwd and Dir, or with MountProc unshare a mount namespace with
// a fresh /proc under Root and change to Dir; become UID/GID (SetID);
// apply the profile; look Args[0] up in Env's PATH and execute it with
// Env. Descriptors are as the stage sees them (-1: none).
type Config struct {
	Target    int
	NS        []NS
	Root, Cwd int
	Dir       string
	Env, Args []string
	SetID     bool
	UID, GID  uint32
	MountProc bool
	Profile   []Record
}

// Encode is the config block. Strings holding a NUL cannot be passed to
// execve and are cut there (callers reject them earlier).
func (c Config) Encode() []byte {
	var b []byte
	b = appendU32s(b, TagTarget, uint32(c.Target))
	for _, ns := range c.NS {
		b = appendU32s(b, TagNS, uint32(ns.FD), ns.Flag)
	}
	if c.Root >= 0 {
		b = appendU32s(b, TagRoot, uint32(c.Root))
	}
	if c.Cwd >= 0 {
		b = appendU32s(b, TagCwd, uint32(c.Cwd))
	}
	if c.Dir != "" {
		b = appendString(b, TagDir, c.Dir)
	}
	for _, e := range c.Env {
		b = appendString(b, TagEnv, e)
	}
	for _, a := range c.Args {
		b = appendString(b, TagArg, a)
	}
	if c.SetID {
		b = appendU32s(b, TagSetID, c.UID, c.GID)
	}
	if c.MountProc {
		b = AppendRecord(b, TagMountProc, nil)
	}
	for _, r := range c.Profile {
		b = AppendRecord(b, r.Tag, r.Payload)
	}
	return AppendRecord(b, TagEnd, nil)
}

// AppendRecord appends one record: tag, length, payload.
func AppendRecord(b []byte, tag uint32, payload []byte) []byte {
	b = binary.NativeEndian.AppendUint32(b, tag)
	b = binary.NativeEndian.AppendUint32(b, uint32(len(payload)))
	return append(b, payload...)
}

func appendU32s(b []byte, tag uint32, vs ...uint32) []byte {
	p := make([]byte, 0, 4*len(vs))
	for _, v := range vs {
		p = binary.NativeEndian.AppendUint32(p, v)
	}
	return AppendRecord(b, tag, p)
}

// appendString appends a string record: the bytes and their one NUL.
func appendString(b []byte, tag uint32, s string) []byte {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return AppendRecord(b, tag, append([]byte(s), 0))
}
