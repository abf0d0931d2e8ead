# lineage: `make demo`, `make test`, `make bench`, `make fuzz`.
# Builds go to build/<MODE> (MODE=rel or asan); sources are found by wildcard so a new file in
# src/<layer>/ needs no Makefile change. Files named *_avx2.c / *_avx512.c get their ISA flags;
# the choice between them is made at run time.

MODE ?= rel
B := build/$(MODE)
SHARED ?= ../shared
CC ?= cc
ifeq ($(CC),cc)
CC := gcc
endif

PKGS := libxxhash libpcre2-8 libcurl libcrypto sqlite3 libpq
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libcurl, libcrypto, SQLite and libpq are loaded on first use (src/io/dynlib.h), not linked: their
# chain costs ~20 ms and ~450 page faults at every start. Only tools that call them directly link them.
PKG_LIBS := $(shell pkg-config --libs libxxhash libpcre2-8 2>/dev/null)
DLOPEN_LIBS := $(shell pkg-config --libs libcurl libcrypto sqlite3 libpq 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wvla
CSTD := -std=c11 -D_DEFAULT_SOURCE
ifeq ($(MODE),fuzz)
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
LDOPT := -fsanitize=address,undefined
else ifeq ($(MODE),tsan)
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=thread
LDOPT := -fsanitize=thread
else ifeq ($(MODE),asan)
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDOPT := -fsanitize=address,undefined
else
OPT := -O2 -g
LDOPT :=
endif
CFLAGS_ALL := $(CSTD) $(WARN) $(OPT) -Iinclude -Isrc $(PKG_CFLAGS) $(CFLAGS)
LDLIBS_ALL := $(PKG_LIBS) -lm -lpthread $(LDLIBS)

AVX2_FLAGS := -mavx2 -mfma -mf16c
AVX512_FLAGS := -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512bf16 -mfma -mf16c

LIB_SRC := $(wildcard src/util/*.c src/io/*.c src/format/*.c src/kernels/*.c src/infer/*.c src/analysis/*.c src/report/*.c)
SUPPORT_SRC := $(wildcard tests/support/*.c)
CLI_SRC := $(wildcard src/cli/*.c)
TEST_SRC := $(wildcard tests/test_*.c)
TOOL_SRC := $(wildcard tools/*.c)
FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(B)/obj/%.o)
SUPPORT_OBJ := $(SUPPORT_SRC:%.c=$(B)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(B)/obj/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(B)/tests/%)
TOOL_BIN := $(TOOL_SRC:tools/%.c=$(B)/%)

.PHONY: all build test demo bench fuzz fuzz-targets deps clean accuracy accuracy-index
.DEFAULT_GOAL := all

all: $(B)/lineage $(B)/liblineage.a $(B)/liblineage_internal.a $(TEST_BIN) $(TOOL_BIN) fuzz-targets

build: all

$(B)/obj/%_avx2.o: %_avx2.c
	@mkdir -p $(dir $@)
	@echo "  CC $@"; $(CC) $(CFLAGS_ALL) $(AVX2_FLAGS) -MMD -MP -c $< -o $@

$(B)/obj/%_avx512.o: %_avx512.c
	@mkdir -p $(dir $@)
	@echo "  CC $@"; $(CC) $(CFLAGS_ALL) $(AVX512_FLAGS) -MMD -MP -c $< -o $@

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC $@"; $(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

# Two archives: liblineage.a is what users link, one relocatable object whose only global symbols
# are the public API (lineage_*), so a program linking it cannot clash with an internal name;
# liblineage_internal.a keeps every symbol for the tests, tools and fuzz targets that reach inside,
# and libsupport.a holds the test-only writers and fixture generators (tests/support).
$(B)/liblineage_internal.a: $(LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(B)/liblineage.a: $(LIB_OBJ)
	@rm -f $@ $(B)/lineage_all.o
	@ld -r -o $(B)/lineage_all.o $^
	@objcopy --wildcard --keep-global-symbol='lineage_*' $(B)/lineage_all.o
	@ar rcs $@ $(B)/lineage_all.o
	@rm -f $(B)/lineage_all.o

$(B)/libsupport.a: $(SUPPORT_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(B)/obj/tests/support/%.o: tests/support/%.c
	@mkdir -p $(dir $@)
	@echo "  CC $@"; $(CC) $(CFLAGS_ALL) -Itests -MMD -MP -c $< -o $@

$(B)/lineage: $(CLI_OBJ) $(B)/liblineage.a
	@echo "  CC $@"; $(CC) $(OPT) $(LDOPT) -o $@ $(CLI_OBJ) $(B)/liblineage.a $(LDLIBS_ALL)

INTERNAL_LIBS := $(B)/libsupport.a $(B)/liblineage_internal.a

$(B)/tests/%: tests/%.c $(INTERNAL_LIBS) tests/check.h
	@mkdir -p $(dir $@)
	@echo "  CC $@"; $(CC) $(CFLAGS_ALL) -Itests -o $@ $< $(INTERNAL_LIBS) $(LDOPT) $(LDLIBS_ALL)

$(B)/%: tools/%.c $(INTERNAL_LIBS)
	@echo "  CC $@"; $(CC) $(CFLAGS_ALL) -Itests -o $@ $< $(INTERNAL_LIBS) $(LDOPT) $(LDLIBS_ALL) $(DLOPEN_LIBS)

# Unicode normalization tables generated from Debian's unicode-data (empty without the package)
UNICODE_DIR ?= /usr/share/unicode
UNICODE_FILES := $(wildcard $(UNICODE_DIR)/CompositionExclusions.txt $(UNICODE_DIR)/UnicodeData.txt)
$(B)/gen/tok_norm_tables.h: tools/gen_tok_norm.awk $(UNICODE_FILES)
	@mkdir -p $(dir $@)
	@echo "  GEN $@"; awk -f tools/gen_tok_norm.awk $(if $(word 2,$(UNICODE_FILES)),$(UNICODE_FILES),stub=1 /dev/null) > $@.tmp && mv $@.tmp $@
$(B)/obj/src/format/tokenizer_norm.o: $(B)/gen/tok_norm_tables.h
$(B)/obj/src/format/tokenizer_norm.o: CFLAGS_ALL += -I$(B)/gen

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(SUPPORT_OBJ:.o=.d)

deps:
	@scripts/deps.sh

# The whole suite, plain and under ASan+UBSan; the last line is "N passed, N failed".
test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory MODE=rel all
	@$(MAKE) --no-print-directory MODE=asan all
	@tests/run.sh build/rel build/asan

demo:
	@scripts/deps.sh build
	@$(MAKE) --no-print-directory MODE=rel all
	@scripts/demo.sh build/rel

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory MODE=rel all
	@bench/run.sh build/rel

# libFuzzer targets (clang): MODE=fuzz builds the library with coverage instrumentation.
# In rel/asan the same targets are linked with fuzz/replay.c so the suite replays the corpus.
FUZZ_SECONDS ?= 20
fuzz:
	@scripts/deps.sh fuzz
	@$(MAKE) --no-print-directory MODE=fuzz CC=clang fuzz-targets
	@fuzz/run.sh $(FUZZ_SECONDS) build/fuzz

fuzz-targets: $(FUZZ_SRC:fuzz/%.c=$(B)/fuzz/%)

ifeq ($(MODE),fuzz)
$(B)/fuzz/%: fuzz/%.c $(INTERNAL_LIBS)
	@mkdir -p $(dir $@)
	@echo "  CC $@"; $(CC) $(CFLAGS_ALL) -Itests -fsanitize=fuzzer -o $@ $< $(INTERNAL_LIBS) $(LDOPT) $(LDLIBS_ALL)
else
$(B)/fuzz/%: fuzz/%.c fuzz/replay.c $(INTERNAL_LIBS)
	@mkdir -p $(dir $@)
	@echo "  CC $@"; $(CC) $(CFLAGS_ALL) -Itests -o $@ $< fuzz/replay.c $(INTERNAL_LIBS) $(LDOPT) $(LDLIBS_ALL)
endif

accuracy:
	@$(MAKE) --no-print-directory MODE=rel all
	@sh scripts/accuracy.sh build/rel/lineage build/rel/mklineage $(SHARED)/zoo

# search over an index of the zoo plus >= 1,000 generated models (several minutes)
accuracy-index:
	@$(MAKE) --no-print-directory MODE=rel all
	@python3 scripts/index_accuracy.py build/rel $(SHARED)/zoo build/accuracy-index --families 56 --heldout 10 --markdown docs/ACCURACY.md

clean:
	rm -rf build
