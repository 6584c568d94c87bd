package namespace

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestParseNSLink(t *testing.T) {
	cases := []struct {
		link, want string
		ino        uint64
		ok         bool
	}{
		{"pid:[4026532152]", "pid", 4026532152, true},
		{"pid:[4026532152]", "pid_for_children", 4026532152, true},
		{"time:[4026531834]", "time_for_children", 4026531834, true},
		{"mnt:[4026531841]", "net", 0, false},
		{"mnt:[]", "mnt", 0, false},
		{"mnt:[0]", "mnt", 0, false},
		{"mnt:4026531841", "mnt", 0, false},
		{"", "mnt", 0, false},
	}
	for _, c := range cases {
		ino, err := ParseLink(c.link, c.want)
		if (err == nil) != c.ok || ino != c.ino {
			t.Errorf("ParseNSLink(%q, %q) = %d, %v", c.link, c.want, ino, err)
		}
	}
}

func TestNSSetJSONHasExactlyTheLinkNames(t *testing.T) {
	var s Set
	for i := range s {
		s[i] = uint64(4026531830 + i)
	}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]uint64
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	want := "cgroup ipc mnt net pid pid_for_children time time_for_children user uts"
	var keys []string
	for _, n := range Names {
		if _, ok := m[n]; !ok {
			t.Errorf("key %q missing in %s", n, data)
		}
		keys = append(keys, n)
	}
	if len(m) != len(Names) || strings.Join(keys, " ") != want {
		t.Errorf("keys %v, want %s", m, want)
	}
	var back Set
	if err := json.Unmarshal(data, &back); err != nil || back != s {
		t.Errorf("round trip: %v %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"bogus":1}`), &back); err == nil {
		t.Error("unknown key accepted")
	}
}

func TestParseNSType(t *testing.T) {
	for i, n := range Names {
		got, err := ParseType(n)
		if err != nil || got != Type(i) || got.String() != n {
			t.Errorf("ParseNSType(%q) = %v, %v", n, got, err)
		}
	}
	if _, err := ParseType("network"); err == nil {
		t.Error("want an error for an unknown name")
	}
}

func FuzzParseNSLink(f *testing.F) {
	f.Add("pid:[4026532152]", "pid")
	f.Add("pid:[4026532152]", "pid_for_children")
	f.Add("mnt:[1]", "net")
	f.Fuzz(func(t *testing.T, link, want string) {
		ino, err := ParseLink(link, want)
		if err == nil && ino == 0 {
			t.Fatalf("accepted inode 0 from %q", link)
		}
	})
}

// TestReadSetMatchesReadlink: the raw, allocation-free reader gives every
// link's inode exactly as os.Readlink and ParseLink read it.
func TestReadSetMatchesReadlink(t *testing.T) {
	set := ReadSet("/proc/self")
	for _, typ := range All() {
		path := "/proc/self/ns/" + typ.String()
		link, err := os.Readlink(path)
		if err != nil {
			t.Skipf("%s: %v", path, err) // a kernel without this namespace type
		}
		want, err := ParseLink(link, typ.String())
		if err != nil {
			t.Fatal(err)
		}
		if set[typ] != want || ReadLink(path) != want {
			t.Errorf("%s: ReadSet %d, ReadLink %d, readlink says %q", typ, set[typ], ReadLink(path), link)
		}
	}
	if ReadLink("/proc/self/ns/nonesuch") != 0 || ReadSet("/proc/0")[PID] != 0 {
		t.Error("a missing link read as an inode")
	}
}

// FuzzSplitLink: the parser reads bytes and strings alike, and accepts
// exactly kind:[decimal inode > 0 that fits 64 bits].
func FuzzSplitLink(f *testing.F) {
	for _, s := range []string{"pid:[4026532152]", "mnt:[1]", "pid:[0]", "pid:[18446744073709551615]",
		"pid:[18446744073709551616]", ":[1]", "pid[1]", "pid:[]", "pid:[1", "a:b:[1]", "pid:[+1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k1, i1, ok1 := splitLink(s)
		k2, i2, ok2 := splitLink([]byte(s))
		if k1 != string(k2) || i1 != i2 || ok1 != ok2 {
			t.Fatalf("%q: string (%q %d %v), bytes (%q %d %v)", s, k1, i1, ok1, k2, i2, ok2)
		}
		kind, rest, cut := strings.Cut(s, ":[")
		wantOK := cut && kind != "" && !strings.Contains(kind, ":") && strings.HasSuffix(rest, "]")
		var want uint64
		if wantOK {
			digits := rest[:len(rest)-1]
			n, err := strconv.ParseUint(digits, 10, 64)
			wantOK = err == nil && n != 0 && digits != "" && strings.Trim(digits, "0123456789") == ""
			want = n
		}
		if ok1 != wantOK || (ok1 && (i1 != want || k1 != kind)) {
			t.Fatalf("%q: got (%q %d %v), want (%q %d %v)", s, k1, i1, ok1, kind, want, wantOK)
		}
	})
}
