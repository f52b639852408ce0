# faultlab - one Makefile. `make` builds ./faultlab; `make test`; `make bench`;
# `make deps` installs the Debian packages the build and tests need;
# `make SANITIZE=address,undefined test` builds into build-san/ and tests that.

CC      ?= cc
PKGS    := libtracefs libtraceevent libzstd sqlite3 libtracecmd
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2 -Wno-unused-parameter -Wno-format-truncation
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 $(WARN) -I. -D_GNU_SOURCE -pthread
ifdef DEVELOPER
CFLAGS  += -Werror
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS  += $(PKG_LIBS) -lm -pthread

ifdef SANITIZE
B       := build-san
CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
BIN     := $(B)/faultlab
else
B       := build
BIN     := faultlab
endif

LIBDIRS := common capture db engine arch replay report
LIB_C   := $(filter-out %/cmd-%.c,$(foreach d,$(LIBDIRS),$(wildcard $(d)/*.c)))
LIB_S   := $(foreach d,$(LIBDIRS),$(wildcard $(d)/*.S))
CMD_C   := main.c $(foreach d,$(LIBDIRS),$(wildcard $(d)/cmd-*.c))
LIB_O   := $(LIB_C:%.c=$(B)/%.o) $(LIB_S:%.S=$(B)/%.o)
CMD_O   := $(CMD_C:%.c=$(B)/%.o)
LIBA    := $(B)/libfaultlab.a

UNIT_C  := $(wildcard tests/unit/*.c)
UNIT    := $(B)/tests/unit-tests
WORK_C  := $(wildcard tests/workloads/*.c)
WORK    := $(WORK_C:tests/workloads/%.c=$(B)/tests/workloads/%)
FUZZ_C  := $(wildcard tests/fuzz/fuzz-*.c)
FUZZ_REPLAY := $(FUZZ_C:tests/fuzz/%.c=$(B)/tests/fuzz/%-replay)
FUZZ_LF := $(FUZZ_C:tests/fuzz/%.c=build-fuzz/%)

DEBIAN_PKGS := build-essential pkg-config libtracefs-dev libtraceevent-dev libzstd-dev \
	libsqlite3-dev libtracecmd-dev trace-cmd sqlite3 zstd clang linux-perf \
	qemu-system-x86 busybox-static cpio python3 chromium

.PHONY: all deps test check bench fuzz demo demo-run clean update-golden
all: $(BIN) $(WORK)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<
$(B)/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I. -c -o $@ $<
# .incbin is invisible to -MMD: the embedded schema is a dependency of its object.
$(B)/db/schema.o: db/schema.sql

$(LIBA): $(LIB_O)
	@rm -f $@
	$(AR) rcs $@ $^

$(BIN): $(CMD_O) $(LIBA)
	$(CC) $(LDFLAGS) -o $@ $(CMD_O) $(LIBA) $(LDLIBS)

$(UNIT): $(UNIT_C:%.c=$(B)/%.o) $(LIBA)
	$(CC) $(LDFLAGS) -o $@ $(UNIT_C:%.c=$(B)/%.o) $(LIBA) $(LDLIBS)

# Test workloads are plain programs; they never link the library.
$(B)/tests/workloads/%: tests/workloads/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -pthread $(if $(SANITIZE),-fsanitize=$(SANITIZE)) -o $@ $< -lm

# Fuzz targets: a plain driver replays the checked-in corpus in `make test`;
# `make fuzz` builds the libFuzzer binaries with clang into build-fuzz/.
$(B)/tests/fuzz/%-replay: $(B)/tests/fuzz/%.o $(B)/tests/fuzz/replay-main.o $(LIBA)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)/tests/fuzz/replay-main.o: tests/fuzz/replay-main.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<
build-fuzz/%: tests/fuzz/%.c $(LIB_C) $(LIB_S)
	@mkdir -p build-fuzz
	clang -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 -I. -D_GNU_SOURCE $(PKG_CFLAGS) \
		-o $@ $< $(LIB_C) $(LIB_S) $(LDLIBS)
fuzz: $(FUZZ_LF)

deps:
	@missing=""; for p in $(DEBIAN_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@if [ -x tests/kernels/fetch-kernels.sh ]; then tests/kernels/fetch-kernels.sh; fi

# `make test` and `make demo` work on a fresh machine: they install what is
# missing first (`deps`, quiet when everything is there), then build in a new
# make, which sees the pkg-config files the install just added. `make check`
# runs the tests without looking at packages.
test: deps
	@$(MAKE) --no-print-directory check

check: all $(UNIT) $(FUZZ_REPLAY)
	@B=$(B) FAULTLAB=$(abspath $(BIN)) WORKLOADS=$(abspath $(B)/tests/workloads) \
		tests/run.sh $(UNIT) $(FUZZ_REPLAY)

# Benchmark programs (tests/bench/*.c) link the library; only `make bench` builds them.
BENCH   := $(patsubst tests/bench/%.c,$(B)/tests/bench/%,$(wildcard tests/bench/*.c))
$(B)/tests/bench/%: tests/bench/%.c $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) -MMD -MP -o $@ $< $(LIBA) $(LDLIBS)

bench: all $(BENCH)
	@FAULTLAB=$(abspath $(BIN)) WORKLOADS=$(abspath $(B)/tests/workloads) \
		BENCH_BIN=$(abspath $(B)/tests/bench) tests/bench/run.sh

demo: deps
	@$(MAKE) --no-print-directory demo-run

demo-run: all
	@FAULTLAB=$(abspath $(BIN)) WORKLOADS=$(abspath $(B)/tests/workloads) tests/demo.sh

update-golden: all $(UNIT)
	FL_UPDATE_GOLDEN=1 $(UNIT)

clean:
	rm -rf build build-san build-fuzz faultlab

-include $(shell find build build-san -name '*.d' 2>/dev/null)
