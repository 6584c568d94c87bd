package main

import (
	"testing"

	"boxtui/internal/testutil"
)

func TestMain(m *testing.M) { testutil.Main(m) }
