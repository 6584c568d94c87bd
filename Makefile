# boxtui — build, test, benchmark.
# sudo often resets PATH; fall back to the usual Go install location.
GO      ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
PREFIX  ?= /usr/local
STATICCHECK_VERSION ?= v0.8.2

.PHONY: all build test test-short bench lint install clean docs man completions deb

all: build

# cgo carries the C fast path of `boxtui exec` (runtime/enter/fastexec),
# which runs before the Go runtime starts. The binary stays static (a
# dynamic one pays the loader on every start): osusergo and netgo keep libc's
# NSS out. Without a C compiler that can link statically, build without cgo:
# everything works, exec just takes the Go path.
CGO := $(shell printf 'int main(void){return 0;}' | $${CC:-cc} -static -x c - -o /dev/null >/dev/null 2>&1 && echo 1 || echo 0)
ifeq ($(CGO),1)
BUILDFLAGS := -tags osusergo,netgo -ldflags '$(LDFLAGS) -linkmode external -extldflags -static'
else
BUILDFLAGS := -tags osusergo,netgo -ldflags '$(LDFLAGS)'
endif

build:
	CGO_ENABLED=$(CGO) $(GO) build -trimpath $(BUILDFLAGS) -o bin/boxtui ./cmd/boxtui

# All tests with the race detector. As root the integration tests run too:
# they start real containers and clean up after themselves.
# State and the action log go to a scratch directory, never the real
# /run/boxtui and /var/log/boxtui (short path: it holds unix sockets).
# The real engines' tests (runtime/engines, engines/: docker, podman, LXC,
# nspawn, bwrap) run after the rest, one package at a time: their
# containers would otherwise appear in the lists the UI tests read, and
# each may start a dockerd of its own on docker's data root.
test: build
	@rundir=$$(mktemp -d /tmp/boxtui-test.XXXXXX); \
	export BOXTUI_BIN=$(CURDIR)/bin/boxtui BOXTUI_RUN_DIR=$$rundir BOXTUI_LOG=$$rundir/actions.log; \
	$(GO) test -tags gendocs -race -count=1 -timeout 30m $$($(GO) list ./... | grep -v -e '^boxtui/engines$$' -e '^boxtui/runtime/engines$$'); rc=$$?; \
	$(GO) test -race -count=1 -p 1 -timeout 20m ./runtime/engines/ ./engines/ || rc=1; \
	rm -rf $$rundir; exit $$rc

test-short:
	$(GO) test -short -count=1 ./...

# Side-by-side benchmarks against the peers (unshare, nsenter, lsns, tmux).
bench: build
	BOXTUI_BIN=$(CURDIR)/bin/boxtui $(GO) test -run '^$$' -bench . -benchtime 1x -count 1 -timeout 60m ./bench/

lint:
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# Generated docs: docs/cli.md from the cobra command tree, docs/keybindings.md
# from the UI's key maps. Tests fail when either is stale.
docs:
	$(GO) run -tags gendocs ./cmd/boxtui gen-docs --markdown docs/cli.md
	$(GO) run ./ui/keydoc -o docs/keybindings.md

# Where `make install` puts things (all under $(DESTDIR)$(PREFIX)).
BUILDDIR    ?= bin
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d

# One man page per command (boxtui.1, boxtui-ls.1, ...) in $(BUILDDIR)/man;
# bin/ is ignored by git and removed by `make clean`.
man: build
	rm -rf $(BUILDDIR)/man
	$(GO) run -tags gendocs ./cmd/boxtui gen-docs --man $(BUILDDIR)/man

completions: build
	mkdir -p $(BUILDDIR)/completions
	bin/boxtui completion bash > $(BUILDDIR)/completions/boxtui.bash
	bin/boxtui completion zsh > $(BUILDDIR)/completions/_boxtui
	bin/boxtui completion fish > $(BUILDDIR)/completions/boxtui.fish

install: build man completions
	install -D -m 0755 bin/boxtui $(DESTDIR)$(PREFIX)/bin/boxtui
	install -d $(DESTDIR)$(MANDIR)/man1
	install -m 0644 $(BUILDDIR)/man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -D -m 0644 $(BUILDDIR)/completions/boxtui.bash $(DESTDIR)$(BASHCOMPDIR)/boxtui
	install -D -m 0644 $(BUILDDIR)/completions/_boxtui $(DESTDIR)$(ZSHCOMPDIR)/_boxtui
	install -D -m 0644 $(BUILDDIR)/completions/boxtui.fish $(DESTDIR)$(FISHCOMPDIR)/boxtui.fish

# Debian package in dist/, built with nfpm (fetched through the Go module
# proxy on first use) from a static binary staged by `make install`.
# Install it with: sudo apt install ./dist/boxtui_*.deb
NFPM_VERSION ?= v2.45.2
DEB_ARCH     ?= $(shell $(GO) env GOARCH)
# Debian versions must start with a digit and keep "-" for the revision:
# v1.2.0-3-gabc1234-dirty -> 1.2.0+3.gabc1234.dirty; untagged -> 0.0.0~gitHASH.
DEB_VERSION  ?= $(shell v=$$(git describe --tags --dirty 2>/dev/null | sed 's/^v//; s/-/+/; s/-/./g'); \
	if [ -n "$$v" ]; then echo "$$v"; \
	else echo "0.0.0~git$$(git describe --always --dirty 2>/dev/null | sed 's/-/+/')"; fi)

deb:
	rm -rf $(BUILDDIR)/pkgroot
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null || date +%s) \
		$(MAKE) install DESTDIR=$(CURDIR)/$(BUILDDIR)/pkgroot PREFIX=/usr \
		ZSHCOMPDIR=/usr/share/zsh/vendor-completions
	gzip -9nf $(BUILDDIR)/pkgroot/usr/share/man/man1/*.1
	mkdir -p dist
	rm -f dist/boxtui_*.deb
	DEB_VERSION='$(DEB_VERSION)' DEB_ARCH='$(DEB_ARCH)' \
		$(GO) run github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION) pkg \
		--config packaging/nfpm.yaml --packager deb --target dist/

clean:
	rm -rf bin
