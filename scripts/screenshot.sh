#!/bin/sh
# Make the README's screenshot from the real UI, reproducibly: boxtui runs in
# a private tmux server of a fixed size, is driven with send-keys as a person
# would (launch "demo" from the form with a read-only bind mount, echo $$ and
# a refused write in its console, a second shell with `e` running ps ax),
# beside the seed post's own `unshare ... chroot` container; the screen is
# captured with its colours (capture-pane -e) and rendered to a PNG by
# charmbracelet/freeze, which embeds its own font so the picture does not
# depend on the fonts installed here.
#
# Usage: sudo scripts/screenshot.sh [OUT.png]     (default docs/images/boxtui.png;
# the namespace map goes beside it, as OUT-map.png)
# Needs: root (it launches containers), tmux, perl, go (freeze is run from the
# module proxy), a built bin/boxtui (`make build`) or BOXTUI_BIN.
# Everything it starts (containers, tmux server, temp rootfs) is removed on
# exit; it uses its own state dir and action log, never /run/boxtui.
set -eu

cd "$(dirname "$0")/.."
out=${1:-docs/images/boxtui.png}
bin=$(realpath "${BOXTUI_BIN:-bin/boxtui}")
freeze=${FREEZE:-github.com/charmbracelet/freeze@v0.2.2}
cols=140
rows=42
name=demo

die() { echo "screenshot.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root: it launches a container (run it with sudo)"
command -v tmux >/dev/null || die "needs tmux: apt-get install tmux"
[ -x "$bin" ] || die "no boxtui binary at $bin: run make build first"

work=$(mktemp -d /tmp/boxtui-shot.XXXXXX)
sock=boxtui-shot-$$
export BOXTUI_RUN_DIR="$work/run" BOXTUI_LOG="$work/actions.log"
mkdir -p "$BOXTUI_RUN_DIR"

t() { tmux -L "$sock" "$@"; }

cleanup() {
	set +e
	"$bin" kill "$name" >/dev/null 2>&1
	"$bin" rm -f "$name" >/dev/null 2>&1
	t kill-server >/dev/null 2>&1
	# The seed's unshare container dies with its tmux window; wait until no
	# process is left chrooted into our rootfs before removing it.
	i=0
	while [ $i -lt 100 ]; do
		busy=
		for r in /proc/[0-9]*/root; do
			[ "$(readlink "$r" 2>/dev/null)" = "$work/rootfs" ] && busy=1 && break
		done
		[ -z "$busy" ] && break
		sleep 0.1
		i=$((i + 1))
	done
	if grep -q " $work" /proc/self/mountinfo; then
		echo "screenshot.sh: mounts left under $work, not removing it" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT INT TERM

# wait_for TEXT: poll the screen until it shows TEXT (10 s at most).
wait_for() {
	i=0
	until t capture-pane -p -t ui | grep -qF -- "$1"; do
		i=$((i + 1))
		if [ $i -gt 500 ]; then
			t capture-pane -p -t ui >&2
			die "waited 10s for \"$1\" on the screen above"
		fi
		sleep 0.02
	done
}
# wait_prompts N: poll until N shell prompts are on the screen, so a command
# is typed only once the one before has finished (typing ahead interleaves
# the echo of the keys with the output).
wait_prompts() {
	i=0
	until [ "$(t capture-pane -p -t ui | grep -o 'bash-[0-9.]*#' | wc -l)" -ge "$1" ]; do
		i=$((i + 1))
		if [ $i -gt 500 ]; then
			t capture-pane -p -t ui >&2
			die "waited 10s for shell prompt number $1 on the screen above"
		fi
		sleep 0.02
	done
}
keys() { t send-keys -t ui "$@"; }
type_text() { t send-keys -t ui -l "$1"; }

"$bin" rootfs create "$work/rootfs" >/dev/null
mkdir "$work/gojek"
echo "Hello from GO-JEK" >"$work/gojek/hi"

t -f /dev/null new-session -d -s ui -x "$cols" -y "$rows" \
	env TERM=xterm-256color COLORTERM=truecolor "$bin"
t set-option -t ui window-size manual
# The seed post's container, made by hand, so the list shows one of each.
t new-window -d -t ui: unshare --pid --fork --mount-proc="$work/rootfs/proc" \
	chroot "$work/rootfs" /bin/bash
wait_for "container(s)"
wait_for "unshare"

# Launch from the form. huh moves between fields asynchronously: wait for
# each field's focus mark before typing into it.
keys n
wait_for "┃ Name"
type_text "$name"
keys Enter
wait_for "┃ Root filesystem"
keys C-u
type_text "$work/rootfs"
keys Enter
wait_for "┃ Command"
keys C-u
type_text /bin/bash
keys Enter
wait_for "┃ Hostname"
keys Enter
wait_for "┃ Own network"
keys Enter
wait_for "┃ Bind mounts"
type_text "$work/gojek:/var/gojek:ro"
keys Enter
wait_for "1 $name console"
wait_prompts 1

type_text 'echo $$'
keys Enter
wait_prompts 2
type_text 'cat /var/gojek/hi'
keys Enter
wait_prompts 3
type_text 'echo "GO-PAY is awesome" > /var/gojek/hi'
keys Enter
wait_prompts 4
wait_for "Read-only file system"

# A second shell in the container's namespaces, in a split pane.
keys C-]
keys e
wait_for "2 $name exec"
wait_prompts 5
type_text 'ps ax'
keys Enter
wait_prompts 6
# Give the keyboard back to the list so the help bar shows its keys, and
# let the list refresh its process count.
keys C-]
wait_for "n launch"
sleep 1.5

t capture-pane -e -p -t ui >"$work/screen.ansi"
grep -q "Read-only file system" "$work/screen.ansi" || die "captured screen lacks the console output"
if ! head -n 1 "$work/screen.ansi" | grep -q " 2 container(s)"; then
	echo "screenshot.sh: warning: other containers on this host are in the picture too" >&2
fi

# The namespace map of the same moment: N from the list, the cursor moved to
# the mnt column (it opens on pid), where the demo container and the seed's differ.
keys N
wait_for "namespace map"
keys Left Left
wait_for "mnt "
sleep 0.5
t capture-pane -e -p -t ui >"$work/map.ansi"

# render ANSI PNG: freeze's width and height in pixels for cols x rows at
# 14px (its glyphs are 14/1.68 px wide, lines 1.2 x 14 px), plus the 20px
# padding on each side.
render() {
	perl -p scripts/screenshot-sgr.pl "$1" >"$1.sgr"
	w=$(awk -v c="$cols" 'BEGIN { printf "%d", (c + 1) * 14 / 1.68 + 40 }')
	h=$(awk -v r="$rows" 'BEGIN { printf "%d", r * 14 * 1.2 + 56 }')
	mkdir -p "$(dirname "$2")"
	go run "$freeze" --language ansi --output "$2" --font.size 14 --line-height 1.2 \
		--padding 20 --margin 0 --width "$w" --height "$h" "$1.sgr" >/dev/null
	chmod 0644 "$2"
	echo "wrote $2 (${w}x${h})"
}
render "$work/screen.ansi" "$out"
render "$work/map.ansi" "${out%.png}-map.png"
