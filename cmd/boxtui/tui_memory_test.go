package main

import (
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

// TestUIMemorySettings checks the UI's process-wide memory setting: a low
// GOGC while idle, and a GOGC the person set themselves left alone.
func TestUIMemorySettings(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "")
	uiMemory()
	if got := gogc(); got != uiGCPercent {
		t.Errorf("GOGC %d after uiMemory, want %d", got, uiGCPercent)
	}
	debug.SetGCPercent(300)
	t.Setenv("GOGC", "300")
	uiMemory()
	if got := gogc(); got != 300 {
		t.Errorf("GOGC %d after uiMemory with GOGC=300 set, want 300", got)
	}
}

func gogc() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}
