package pty

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	runewidth "github.com/mattn/go-runewidth"
)

// TestRuneWidthTablesMatchLibrary checks every answer of the go-runewidth
// stand-in (go.mod replaces the library with pty/runewidth) against the
// digests its generator took from the library itself: the width of every
// rune, under each combination of the two flags.
func TestRuneWidthTablesMatchLibrary(t *testing.T) {
	src, err := os.ReadFile("runewidth/tables.go")
	if err != nil {
		t.Fatal(err)
	}
	// The tables are of the version the module requires: after a bump,
	// regenerate them (cd pty/runewidth/gen, set the version in its
	// go.mod, go run . > ../tables.go).
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	version := func(re string, b []byte) string {
		if m := regexp.MustCompile(re).FindSubmatch(b); m != nil {
			return string(m[1])
		}
		return "none"
	}
	want := version(`github.com/mattn/go-runewidth (v\S+)`, mod)
	if got := version(`from github.com/mattn/go-runewidth (v\S+);`, src); got != want {
		t.Fatalf("runewidth/tables.go was generated from go-runewidth %s, go.mod requires %s", got, want)
	}
	for _, c := range []struct {
		name               string
		eastAsian, neutral bool
	}{{"narrow", false, true}, {"wide", true, true}, {"narrowEmoji", false, false}, {"wideEmoji", true, false}} {
		m := regexp.MustCompile(`const ` + c.name + `Digest = "([0-9a-f]+)"`).FindSubmatch(src)
		if m == nil {
			t.Fatalf("no %sDigest in runewidth/tables.go", c.name)
		}
		cond := &runewidth.Condition{EastAsianWidth: c.eastAsian, StrictEmojiNeutral: c.neutral}
		h := sha256.New()
		buf := make([]byte, 0, 1<<16)
		for r := rune(0); r <= 0x10FFFF; r++ {
			buf = append(buf, byte(cond.RuneWidth(r)))
			if len(buf) == cap(buf) {
				h.Write(buf)
				buf = buf[:0]
			}
		}
		h.Write(buf)
		if got := hex.EncodeToString(h.Sum(nil)); got != string(m[1]) {
			t.Errorf("%s widths: digest %s, the library's %s", c.name, got, m[1])
		}
	}
	for _, r := range []rune{-1, 0x110000, 0x7fffffff} {
		if w := runewidth.RuneWidth(r); w != 0 {
			t.Errorf("RuneWidth(%#x) = %d, want 0", r, w)
		}
	}
}

// TestWidthsThePanesUse spot-checks widths as the emulator and the
// renderer (x/ansi's WcWidth) measure them.
func TestWidthsThePanesUse(t *testing.T) {
	for s, want := range map[string]int{
		"a": 1, "é": 1, "e\u0301": 1, "\u00ad": 0, "─": 1, "…": 1, "○": 1,
		"世": 2, "日本語": 6, "한": 2, "ｱ": 1, "Ａ": 2, "😀": 2, "👍🏽": 4, "\u200b": 0,
		"\U0001F1EF\U0001F1F5": 2, "⌚": 2, "\u2615": 2, "\U00020000": 2,
	} {
		if got := ansi.StringWidthWc(s); got != want {
			t.Errorf("StringWidthWc(%q) = %d, want %d", s, got, want)
		}
	}
	ea := &runewidth.Condition{EastAsianWidth: true, StrictEmojiNeutral: true}
	for r, want := range map[rune]int{'○': 2, '…': 2, 'a': 1, '世': 2, 0x301: 0} {
		if got := ea.RuneWidth(r); got != want {
			t.Errorf("east asian RuneWidth(%q) = %d, want %d", r, got, want)
		}
	}
}

// TestEastAsianLocale checks the locale rule the package-level RuneWidth
// (bubbles' text inputs) takes its default from.
func TestEastAsianLocale(t *testing.T) {
	for locale, want := range map[string]bool{
		"": false, "C": false, "POSIX": false, "C.UTF-8": false, "en_US.UTF-8": false,
		"ja_JP.UTF-8": true, "zh_CN.utf8": true, "ko_KR.UTF-8": true, "ja_JP.eucJP": true,
		"zh_TW.Big5": true, "zh_CN.GB2312": true, "ja_JP.UTF-8@cjk_narrow": false,
		"de_DE.ISO-8859-1": false, "fr_FR": false,
	} {
		t.Setenv("LC_ALL", locale)
		t.Setenv("LANG", "")
		t.Setenv("LC_CTYPE", "")
		if got := runewidth.IsEastAsian(); got != want {
			t.Errorf("IsEastAsian with LC_ALL=%q = %v, want %v", locale, got, want)
		}
	}
}

// TestWidthBuildsNoTable checks that measuring characters past U+02FF
// (box drawing, CJK, emoji: what the UI draws and panes show) leaves the
// resident set as it was. go-runewidth built a 2.2 MB lookup table on the
// first such character, a tenth of the UI's memory. It runs in a process
// of its own, where nothing has measured a character yet.
func TestWidthBuildsNoTable(t *testing.T) {
	if os.Getenv("BOXTUI_WIDTH_CHILD") == "1" {
		before := rssAnonKB(t)
		n := 0
		for _, s := range []string{"─", "世界", "😀", "e\u0301", "…"} {
			n += ansi.StringWidthWc(s)
		}
		n += runewidth.RuneWidth('世')
		after := rssAnonKB(t)
		os.Stdout.WriteString("grew " + strconv.Itoa(after-before) + " kB " + strconv.Itoa(n) + "\n")
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWidthBuildsNoTable$", "-test.count=1")
	cmd.Env = append(os.Environ(), "BOXTUI_WIDTH_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`grew (-?\d+) kB`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("child said %q", out)
	}
	if kb, _ := strconv.Atoi(string(m[1])); kb > 512 {
		t.Fatalf("measuring five strings made the resident set grow by %d kB: a width table was built", kb)
	}
}

func rssAnonKB(t *testing.T) int {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "RssAnon:" {
			kb, _ := strconv.Atoi(f[1])
			return kb
		}
	}
	t.Fatal("no RssAnon in /proc/self/status")
	return 0
}
