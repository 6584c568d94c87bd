package execcmd

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want Flags
	}{
		{[]string{"web"}, Flags{Target: "web", Command: []string{}}},
		{[]string{"-it", "42", "--", "sh", "-c", "exit 7"}, Flags{Interactive: true, TTY: true, Target: "42", Command: []string{"sh", "-c", "exit 7"}}},
		// Flags after TARGET belong to the command.
		{[]string{"web", "ls", "-l", "-t"}, Flags{Target: "web", Command: []string{"ls", "-l", "-t"}}},
		{[]string{"--ns", "pid", "--new-mount-proc", "-w", "/tmp", "-e", "A=1", "--env=B=2", "-eC=3", "-w/x", "web"},
			Flags{NS: "pid", NewMountProc: true, Dir: "/x", Env: []string{"A=1", "B=2", "C=3"}, Target: "web", Command: []string{}}},
		{[]string{"--ns=net,uts", "--workdir", "/srv", "--tty=false", "--interactive=true", "web"},
			Flags{NS: "net,uts", Dir: "/srv", Interactive: true, Target: "web", Command: []string{}}},
		{[]string{"-t", "--", "web", "top"}, Flags{TTY: true, Target: "web", Command: []string{"top"}}},
		{[]string{"--config", "/x.toml", "--config=/y.toml", "web"}, Flags{Config: "/y.toml", Target: "web", Command: []string{}}},
	} {
		got, err := Parse(tc.args)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tc.args, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "no target given"},
		{[]string{"-t"}, "no target given"},
		{[]string{"--bogus", "web"}, "unknown flag: --bogus"},
		{[]string{"-x", "web"}, "unknown shorthand flag: 'x' in -x"},
		{[]string{"-w"}, "flag needs an argument: -w"},
		{[]string{"--ns"}, "flag needs an argument: --ns"},
		{[]string{"--tty=maybe", "web"}, `invalid argument "maybe" for --tty`},
	} {
		_, err := Parse(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) error = %v; want %q", tc.args, err, tc.want)
		}
	}
	for _, args := range [][]string{{"-h"}, {"--help"}, {"-ih", "web"}} {
		if _, err := Parse(args); !errors.Is(err, ErrHelp) {
			t.Errorf("Parse(%q) error = %v; want ErrHelp", args, err)
		}
	}
}
