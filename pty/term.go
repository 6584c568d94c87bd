package pty

// TERM is the terminal every pane's program is told it runs on: consoles
// (whoever launched them) and exec and debug shells alike, since all of
// them are drawn by this emulator, and a console by the holder's copy of
// it (Screen). The emulator implements what xterm-256color's terminfo
// entry promises that programs use: 256 and direct colours, the
// alternate screen, bracketed paste, application cursor keys and keypad,
// mouse modes 1000/1002/1003 with SGR reports.
//
// Its entry is in every distribution's base terminfo (Debian's and
// Ubuntu's ncurses-base, Alpine's ncurses-terminfo-base, Fedora's
// ncurses-base, Arch's ncurses) and in the rootfs `boxtui rootfs create`
// makes. A rootfs with no terminfo database at all (one static binary,
// busybox) has no program that reads one: busybox's vi, less, top and
// clear write xterm's sequences themselves.
const TERM = "xterm-256color"
