# fuzz.mk -- libFuzzer harnesses (clang), run by `make fuzz`: every target in FUZZ_TARGETS for
# FUZZ_SECONDS seconds, one after the other (`make -f fuzz/fuzz.mk fuzz-idx` runs one). The
# library is rebuilt with ASan + UBSan in build/fuzz. Seeds are read from fuzz/corpus/<target>
# (expr also from tests/data/expr_bad); new inputs go to build/fuzz/corpus (expr) and
# build/fuzz/corpus-<target>, kept apart because libFuzzer reads corpus folders recursively.
#   expr   the expression language (fuzz_expr.c)
#   idx    IDX images + labels, plain and gzip (fuzz_idx.c)
#   cifar  CIFAR-10/100 batches, plain and gzip, one or two files (fuzz_cifar.c)
#   ckpt   checkpoints, read alone and loaded into a small net with SGD or Adam; even first
#          bytes get their CRC appended so mutations reach the field checks (fuzz_ckpt.c)

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS  = expr idx cifar ckpt
FB            = build/fuzz
FUZZ_FLAGS    = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
                -fno-sanitize-recover=undefined -fopenmp-simd -Werror=unused-result
FUZZ_CPPFLAGS = -Iinclude -Isrc -D_GNU_SOURCE -DACTLAB_BUILD -MMD -MP \
                $(shell pkg-config --cflags openblas 2>/dev/null)
FUZZ_LIBS     = $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas) -lz -lm
FUZZ_SRC      = $(wildcard src/*/*.c)
FUZZ_OBJ      = $(patsubst %.c,$(FB)/%.o,$(FUZZ_SRC))
FUZZ_BIN      = $(FUZZ_TARGETS:%=$(FB)/fuzz_%)
FUZZ_OPTS     = -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
                -print_final_stats=1

# One command line per target: binary, corpus (written), seeds (read), input size limit.
FUZZ_RUN_expr  = ./$(FB)/fuzz_expr $(FUZZ_OPTS) -max_len=4096 \
                 $(FB)/corpus fuzz/corpus/expr tests/data/expr_bad
FUZZ_RUN_idx   = ./$(FB)/fuzz_idx $(FUZZ_OPTS) -max_len=16384 \
                 $(FB)/corpus-idx fuzz/corpus/idx
FUZZ_RUN_cifar = ./$(FB)/fuzz_cifar $(FUZZ_OPTS) -max_len=16384 \
                 $(FB)/corpus-cifar fuzz/corpus/cifar
FUZZ_RUN_ckpt  = ./$(FB)/fuzz_ckpt $(FUZZ_OPTS) -max_len=65536 \
                 $(FB)/corpus-ckpt fuzz/corpus/ckpt

# One recipe line per target: they run one after the other, even under make -j.
define FUZZ_LINE
	$(FUZZ_RUN_$(1))

endef

fuzz: $(FUZZ_BIN)
	@mkdir -p $(FB)/corpus $(patsubst %,$(FB)/corpus-%,$(filter-out expr,$(FUZZ_TARGETS)))
	$(foreach t,$(FUZZ_TARGETS),$(call FUZZ_LINE,$(t)))

$(FUZZ_TARGETS:%=fuzz-%): fuzz-%: $(FB)/fuzz_%
	@mkdir -p $(FB)/corpus $(FB)/corpus-$*
	$(FUZZ_RUN_$*)

$(FB)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 $(FUZZ_CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FB)/fuzz_%: $(FB)/fuzz/fuzz_%.o $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $^ $(FUZZ_LIBS) -o $@

.PHONY: fuzz $(FUZZ_TARGETS:%=fuzz-%)
.SECONDARY:
-include $(FUZZ_OBJ:.o=.d) $(FUZZ_TARGETS:%=$(FB)/fuzz/fuzz_%.d)
