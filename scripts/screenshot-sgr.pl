# Restate the whole SGR style at every change and at the start of every line
# of a `tmux capture-pane -e` dump, for scripts/screenshot.sh. tmux writes each
# style as a change from the cell before, across lines, and resets colours
# with 39/49; freeze styles each line on its own and knows neither 39 nor 49,
# so without this a colour leaks into the text after it.
# Usage: perl -p scripts/screenshot-sgr.pl < capture > normalised
my ($fg, $bg, $bold, $it, $ul);
sub state {
	my @o = (0);
	push @o, 1 if $bold;
	push @o, 3 if $it;
	push @o, 4 if $ul;
	push @o, $fg if defined $fg;
	push @o, $bg if defined $bg;
	return "\e[" . join(";", @o) . "m";
}
sub sgr {
	my @p = split /[;:]/, $_[0], -1;
	@p = (0) unless @p;
	while (@p) {
		my $v = shift @p;
		$v = 0 if $v eq "";
		if ($v == 0) { ($fg, $bg, $bold, $it, $ul) = () }
		elsif ($v == 1) { $bold = 1 }
		elsif ($v == 22) { $bold = 0 }
		elsif ($v == 3) { $it = 1 }
		elsif ($v == 23) { $it = 0 }
		elsif ($v == 4) { $ul = 1 }
		elsif ($v == 24) { $ul = 0 }
		elsif (($v >= 30 && $v <= 37) || ($v >= 90 && $v <= 97)) { $fg = $v }
		elsif ($v == 39) { undef $fg }
		elsif ($v == 38 || $v == 48) {
			my $m = shift @p;
			my $c = $m == 5 ? "$v;5;" . shift(@p) : "$v;2;" . join(";", splice(@p, 0, 3));
			if ($v == 38) { $fg = $c } else { $bg = $c }
		}
		elsif ($v >= 40 && $v <= 47) { $bg = "48;5;" . ($v - 40) }
		elsif ($v >= 100 && $v <= 107) { $bg = "48;5;" . ($v - 92) }
		elsif ($v == 49) { undef $bg }
	}
	return state();
}
$_ = state() . $_;
s/\e\[([0-9;:]*)m/sgr($1)/ge;
