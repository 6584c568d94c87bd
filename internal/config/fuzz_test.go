package config

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse feeds the parser arbitrary bytes: it must never panic, and every
// failure must be a one-line *Error that names the file.
func FuzzParse(f *testing.F) {
	f.Add([]byte(full))
	f.Add([]byte("keys = { mounts = { add = \"a\" } }\n"))
	f.Add([]byte("[keys]\nlaunch = [\n  \"n\",\n  42,\n]\n"))
	f.Add([]byte("[[keys]]\n"))
	f.Add([]byte("refresh = \"1h2m\"\nno_color = false\n"))
	f.Add([]byte("a.b.c = { d = [[1], {e = 2}] }\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("f.toml", data)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is %T, not *Error", err, err)
			}
			if strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "config f.toml") {
				t.Fatalf("bad error text %q", err)
			}
			return
		}
		for action, keys := range cfg.Keys {
			if checkActionName(action) != nil || len(keys) == 0 {
				t.Fatalf("accepted bad binding %q = %q", action, keys)
			}
			for _, k := range keys {
				if CheckKey(k) != nil {
					t.Fatalf("accepted bad key %q", k)
				}
			}
		}
		if cfg.Refresh != 0 && (cfg.Refresh < MinRefresh || cfg.Refresh > MaxRefresh) {
			t.Fatalf("accepted refresh %v", cfg.Refresh)
		}
	})
}
