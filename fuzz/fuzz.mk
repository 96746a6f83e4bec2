# fuzz.mk -- libFuzzer harness for the expression language (clang), run by `make fuzz` for
# FUZZ_SECONDS seconds: the library is rebuilt with ASan + UBSan in build/fuzz; new inputs go
# to build/fuzz/corpus, seeds are read from fuzz/corpus/expr and tests/data/expr_bad.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FB            = build/fuzz
FUZZ_FLAGS    = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
                -fno-sanitize-recover=undefined -fopenmp-simd
FUZZ_CPPFLAGS = -Iinclude -Isrc -D_GNU_SOURCE -DACTLAB_BUILD
FUZZ_SRC      = $(wildcard src/act/*.c src/expr/*.c src/search/*.c src/util/*.c)
FUZZ_OBJ      = $(patsubst %.c,$(FB)/%.o,$(FUZZ_SRC))

fuzz: $(FB)/fuzz_expr
	@mkdir -p $(FB)/corpus
	./$(FB)/fuzz_expr -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 $(FB)/corpus fuzz/corpus/expr tests/data/expr_bad

$(FB)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 $(FUZZ_CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FB)/fuzz_expr: $(FB)/fuzz/fuzz_expr.o $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $^ -lm -o $@

.PHONY: fuzz
