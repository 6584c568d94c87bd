package namespace

import (
	"encoding/json"
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
