package ui

import (
	"io"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/charmbracelet/x/vt"
)

// TestProgramRunsAndQuits runs the model in a real tea.Program (teatest),
// replays its output into a terminal emulator and checks the screen a
// person would see, then quits with q.
func TestProgramRunsAndQuits(t *testing.T) {
	b := newFakeBackend()
	m := New(b, Options{Now: func() time.Time { return fakeNow }, Refresh: time.Hour})
	tm := teatest.NewTestModel(t, m,
		teatest.WithInitialTermSize(100, 30),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.NoTTY)))

	// Replay the output into an emulator (LNM makes bare line feeds new
	// lines) and wait on the screen a person would see, never on raw
	// bytes: the renderer only redraws what changed.
	emu := vt.NewEmulator(100, 30)
	// Drain its replies to the queries bubbletea sends, or Write blocks.
	// The goroutine is left to block when the test ends: vt's Close races
	// with a pending Read.
	go io.Copy(io.Discard, emu)
	emu.Write([]byte("\x1b[20h"))
	wants := []string{"boxtui  4 container(s)", "4242 boxtui", "namespaces of web (PID 4242)", "set 2 = PID 4300,4301: own mnt"}
	fed := 0 // WaitFor hands over everything read so far: feed only the new bytes
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool {
		emu.Write(out[fed:])
		fed = len(out)
		screen := emu.String()
		for _, w := range wants {
			if !strings.Contains(screen, w) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(10*time.Millisecond))

	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	final := tm.FinalModel(t).(Model)
	if !strings.Contains(final.Summary(), "keep running") {
		t.Fatalf("summary %q", final.Summary())
	}
}
