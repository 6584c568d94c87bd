# boxtui — build, test, benchmark.
# sudo often resets PATH; fall back to the usual Go install location.
GO      ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
PREFIX  ?= /usr/local
STATICCHECK_VERSION ?= v0.8.2

.PHONY: all build test test-short bench lint install clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/boxtui ./cmd/boxtui

# All tests with the race detector. As root the integration tests run too:
# they start real containers and clean up after themselves.
test: build
	BOXTUI_BIN=$(CURDIR)/bin/boxtui $(GO) test -race -count=1 -timeout 30m ./...

test-short:
	$(GO) test -short -count=1 ./...

# Side-by-side benchmarks against the peers (unshare, nsenter, lsns, tmux).
bench: build
	BOXTUI_BIN=$(CURDIR)/bin/boxtui $(GO) test -run '^$$' -bench . -benchtime 1x -count 1 -timeout 60m ./bench/

lint:
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

install: build
	install -D -m 0755 bin/boxtui $(DESTDIR)$(PREFIX)/bin/boxtui

clean:
	rm -rf bin
