package ui

import (
	"bytes"
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

	var seen bytes.Buffer
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool {
		seen.Write(out)
		return bytes.Contains(seen.Bytes(), []byte("namespaces of web"))
	}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(10*time.Millisecond))

	// Replay what was drawn into an emulator (LNM makes bare line feeds
	// new lines) and read the screen a person would see.
	emu := vt.NewEmulator(100, 30)
	defer emu.Close()
	go io.Copy(io.Discard, emu) // drain its replies to queries
	emu.Write([]byte("\x1b[20h"))
	emu.Write(seen.Bytes())
	screen := emu.String()
	for _, want := range []string{"boxtui  3 container(s)", "4242 boxtui", "namespaces of web (PID 4242)", "set 2 = PID 4300,4301: own mnt"} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}

	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	final := tm.FinalModel(t).(Model)
	if !strings.Contains(final.Summary(), "keep running") {
		t.Fatalf("summary %q", final.Summary())
	}
}
