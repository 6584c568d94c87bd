package mounts

import (
	"testing"
	"time"
)

func TestSpeedTmp(t *testing.T) {
	b := newBox(t, true)
	src := t.TempDir()
	var att, det time.Duration
	const n = 200
	for range n {
		t0 := time.Now()
		if err := AddToProcess(b.pid, b.c.StartTime, src, "/var/x", AddOptions{ReadOnly: true}); err != nil {
			t.Fatal(err)
		}
		t1 := time.Now()
		if err := RemoveFromProcess(b.pid, b.c.StartTime, "/var/x"); err != nil {
			t.Fatal(err)
		}
		att += t1.Sub(t0)
		det += time.Since(t1)
	}
	t.Logf("attach %v detach %v", att/n, det/n)
	var ent time.Duration
	for range n {
		t0 := time.Now()
		enter(b.pid, b.c.StartTime, func(in inside) error { return nil })
		ent += time.Since(t0)
	}
	t.Logf("enter %v", ent/n)
}
