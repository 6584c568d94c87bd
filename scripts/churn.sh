#!/usr/bin/env bash
# churn.sh: keep the host's rename and mount sequence counts moving, the way
# a busy machine does, so that tests (`make test`) run against it.
#
# Two loops in a fresh temporary directory:
#   - one renames a file back and forth as fast as it can (perl, one
#     process, so no fork per rename);
#   - one mounts a small tmpfs and unmounts it again, over and over, on a
#     directory under a private bind mount of the temporary directory (so
#     the churn does not propagate into other mount namespaces).
# It runs until SIGTERM or SIGINT (or for SECONDS if given), then stops both
# loops, unmounts and removes everything it made, and prints how many renames
# and mounts it did. Needs root (the mount loop) and perl.
#
# Usage: sudo scripts/churn.sh [SECONDS] &  make test;  kill %1
# (A script's background jobs ignore SIGINT, as shells do: stop it with
# SIGTERM there.)
set -u

if [ "$(id -u)" != 0 ]; then
	echo "churn.sh: needs root to mount; run it with sudo" >&2
	exit 1
fi
if ! command -v perl >/dev/null; then
	echo "churn.sh: needs perl for the rename loop; install perl" >&2
	exit 1
fi

dir=$(mktemp -d /tmp/boxtui-churn.XXXXXX) || exit 1
mkdir "$dir/m" "$dir/r" || exit 1
: >"$dir/r/a"
pids=()
sleeper=

cleanup() {
	trap - TERM INT EXIT
	# The sleep the main loop waits on, too: left behind, it would hold
	# the caller's stderr open for an hour.
	[ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	# The mount loop may have been stopped between mount and umount; a
	# tmpfs may also be stacked more than once: unmount until none is left.
	for _ in 1 2 3 4 5 6 7 8; do
		mountpoint -q "$dir/m" 2>/dev/null || break
		umount -l "$dir/m" 2>/dev/null
	done
	umount -l "$dir" 2>/dev/null
	if [ -f "$dir/renames" ]; then renames=$(cat "$dir/renames"); else renames=?; fi
	if [ -f "$dir/mounts" ]; then mounts=$(cat "$dir/mounts"); else mounts=?; fi
	rm -rf --one-file-system "$dir"
	echo "churn.sh: stopped after $renames renames and $mounts mounts" >&2
	exit 0
}
trap cleanup TERM INT EXIT

# A private bind of the directory on itself: the tmpfs mounts below stay out
# of every peer group of the host's shared /.
mount --bind "$dir" "$dir" && mount --make-private "$dir" || {
	echo "churn.sh: cannot make a private mount at $dir" >&2
	exit 1
}

perl -e '
	my ($d) = @ARGV; my $n = 0; my $stop = 0;
	$SIG{TERM} = $SIG{INT} = sub { $stop = 1 };
	until ($stop) {
		rename("$d/r/a", "$d/r/b") or last;
		rename("$d/r/b", "$d/r/a") or last;
		$n += 2;
	}
	open(my $f, ">", "$d/renames"); print $f "$n\n";
' "$dir" &
pids+=($!)

(
	n=0; stop=0
	trap 'stop=1' TERM INT
	while [ "$stop" = 0 ]; do
		mount -t tmpfs -o size=64k boxtui-churn "$dir/m" 2>/dev/null && umount "$dir/m" 2>/dev/null && n=$((n + 1))
	done
	echo "$n" >"$dir/mounts"
) &
pids+=($!)

echo "churn.sh: churning in $dir (pids ${pids[*]}); stop with kill -TERM $$" >&2
if [ $# -ge 1 ]; then
	sleep "$1" & sleeper=$!
	wait $sleeper
else
	while :; do
		sleep 3600 & sleeper=$!
		wait $sleeper
	done
fi
