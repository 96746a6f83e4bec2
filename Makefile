# Makefile -- the primary build. `make`, `make run`, `make check`, `make asan`, `make bench`,
# `make docs`, `make fuzz`, `make install PREFIX=...` (also the Python package). One build
# directory per configuration.

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN      = -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Werror=unused-result \
            -Wmissing-prototypes -Wswitch-enum -Wvla -Wcast-qual -Werror=switch
DEPS_CFLAGS := $(shell pkg-config --cflags openblas 2>/dev/null)
DEPS_LIBS   := $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas) -lz
# oneDNN's sgemm is the default GEMM back-end when its header is present (scripts/install-deps.sh
# installs libdnnl-dev); ONEDNN=0 builds without it (OpenBLAS only), ONEDNN=1 requires it.
ONEDNN ?= $(shell printf '\043include <oneapi/dnnl/dnnl.h>\n' | $(CC) -E -x c - >/dev/null 2>&1 && echo 1 || echo 0)
ifeq ($(ONEDNN),1)
DEPS_CFLAGS += -DACTLAB_ONEDNN
DEPS_LIBS   += -ldnnl
endif
PLOT_CFLAGS := $(shell pkg-config --cflags plplot 2>/dev/null)
PLOT_LIBS   := $(shell pkg-config --libs plplot 2>/dev/null || echo -lplplot)
CPPFLAGS  = -Iinclude -Isrc -D_GNU_SOURCE -MMD -MP $(DEPS_CFLAGS)
OMP       = -fopenmp
LDLIBS    = $(DEPS_LIBS) -lm
B        ?= build
PREFIX   ?= /usr/local
VERSION   = 0.1.0

# `make V=1` shows the full compiler command lines.
ifeq ($(V),1)
Q =
else
Q = @echo '  CC  $<';
endif

ifdef NATIVE
CFLAGS   += -march=native
endif

LIB_SRC   = $(wildcard src/*/*.c)
LIB_OBJ   = $(patsubst %.c,$(B)/%.o,$(LIB_SRC))
PIC_OBJ   = $(patsubst %.c,$(B)/pic/%.o,$(LIB_SRC))
TEST_OBJ  = $(patsubst %.c,$(B)/%.o,$(wildcard tests/*.c))
CLI_OBJ   = $(patsubst %.c,$(B)/%.o,$(wildcard tools/actlab/*.c))
# orch/: the search's coordinator side (journal on SQLite), linked into the CLI and the tests
# only; libactlab never needs SQLite.
ORCH_SRC  = $(wildcard orch/*.c)
ORCH_OBJ  = $(patsubst %.c,$(B)/%.o,$(ORCH_SRC))
ORCH_LIBS = -lsqlite3
# The search's MPI transport (orch/mpi.c) when `pkg-config mpi-c` finds an MPI (Debian:
# libopenmpi-dev, or libmpich-dev); MPI=0 builds without it (`--transport mpi` then says so),
# MPI=1 requires it. Only the CLI links MPI; the asan build does not use it.
MPI ?= $(shell pkg-config --exists mpi-c 2>/dev/null && echo 1 || echo 0)
ifeq ($(MPI),1)
MPI_CFLAGS := -DACTLAB_MPI $(shell pkg-config --cflags mpi-c)
MPI_LIBS   := $(shell pkg-config --libs mpi-c)
NOMPI_BIN  := $(B)/tests/actlab-nompi
endif

EX_BIN    = $(patsubst examples/%.c,$(B)/examples/%,$(wildcard examples/*.c))

all: $(B)/libactlab.a $(B)/libactlab.so $(B)/actlab $(B)/gen_docs $(B)/tests/run $(EX_BIN) \
     $(NOMPI_BIN)

deps:
	@scripts/install-deps.sh

# The main job: set up, build, run the demo.
run: deps
	$(MAKE) all
	./$(B)/actlab demo

# The whole test suite; ends with "N passed, N failed".
check: deps
	$(MAKE) all
	scripts/run-tests.sh $(B)

asan: deps                     # separate build dir: never mixes with normal objects
	$(MAKE) all B=build/asan MPI=0 \
	    CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
	    LDFLAGS="-fsanitize=address,undefined"
	ACTLAB_NO_MPI=1 SAN_CFLAGS="-fsanitize=address,undefined" ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/scripts/lsan.supp:print_suppressions=0 \
	    scripts/run-tests.sh build/asan

# The kernel benchmark is `actlab bench` (validates every kernel against the scalar reference,
# then times it). bench/ holds scripts with their own optional dependencies (bench/peers,
# bench/train), each building what it needs; experiments are dev/ (dev/README.md).
bench: all
	./$(B)/actlab bench

# actlab side by side with PyTorch 1.13 and oneDNN 2.6 (benchmark-only dependencies).
bench-peers: all
	scripts/install-deps.sh --bench
	bench/peers/run.sh $(B)

docs: $(B)/gen_docs
	./$(B)/gen_docs > docs/activations.md.tmp && mv docs/activations.md.tmp docs/activations.md

$(B)/src/%.o: WARN += -Wdouble-promotion   # library kernels stay in float

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(WARN) $(CPPFLAGS) -DACTLAB_BUILD -fvisibility=hidden $(OMP) $(CFLAGS) -c $< -o $@

$(B)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(WARN) -Wdouble-promotion $(CPPFLAGS) -DACTLAB_BUILD -fvisibility=hidden -fPIC $(OMP) $(CFLAGS) -c $< -o $@

$(B)/tools/actlab/%.o: CPPFLAGS += $(PLOT_CFLAGS)
$(B)/orch/%.o: CPPFLAGS += -DACTLAB_VERSION='"$(VERSION)"'
$(B)/orch/mpi.o: CPPFLAGS += $(MPI_CFLAGS)
$(B)/tests/%.o $(B)/tools/actlab/%.o: CPPFLAGS += -I.

$(B)/libactlab.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/libactlab.so: $(PIC_OBJ)
	$(CC) -shared $(OMP) $(LDFLAGS) -Wl,-soname,libactlab.so.0 $^ $(LDLIBS) -o $@

$(B)/libactlab_orch.a: $(ORCH_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/actlab: $(CLI_OBJ) $(B)/libactlab_orch.a $(B)/libactlab.a
	$(CC) $(OMP) $(LDFLAGS) $^ $(PLOT_LIBS) $(ORCH_LIBS) $(MPI_LIBS) $(LDLIBS) -o $@

# The CLI as a build without MPI makes it, from the same objects but orch/mpi.c compiled
# without MPI (tests/cli/search_mpi.sh checks what it says to --transport mpi).
$(B)/orch/mpi_none.o: orch/mpi.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(WARN) $(CPPFLAGS) -DACTLAB_VERSION='"$(VERSION)"' $(OMP) $(CFLAGS) -c $< -o $@

$(B)/tests/actlab-nompi: $(CLI_OBJ) $(B)/orch/mpi_none.o $(B)/libactlab_orch.a $(B)/libactlab.a
	$(CC) $(OMP) $(LDFLAGS) $^ $(PLOT_LIBS) $(ORCH_LIBS) $(LDLIBS) -o $@

$(B)/tests/run: $(TEST_OBJ) $(B)/libactlab_orch.a $(B)/libactlab.a
	$(CC) $(OMP) $(LDFLAGS) $^ $(ORCH_LIBS) $(LDLIBS) -o $@

$(B)/gen_docs: $(B)/tools/gen_docs.o $(B)/libactlab.a
	$(CC) $(OMP) $(LDFLAGS) $^ $(LDLIBS) -o $@

# examples/ are built as a library user builds them: public headers only, no internal flags.
$(B)/examples/%: examples/%.c $(B)/libactlab.a
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -Iinclude $(OMP) $(CFLAGS) $< $(B)/libactlab.a $(LDFLAGS) $(LDLIBS) -o $@

# libFuzzer harnesses (clang), each run for a bounded time.
FUZZ_SECONDS ?= 60
fuzz:
	$(MAKE) -f fuzz/fuzz.mk FUZZ_SECONDS=$(FUZZ_SECONDS)

# The Python package (python/actlab) goes where Debian's python3 finds it: PREFIX/lib/python3/
# dist-packages for PREFIX=/usr, else PREFIX/lib/pythonX.Y/dist-packages (Debian's site for
# /usr/local); its _paths.py records PREFIX/lib, where it then loads libactlab.so from. PYSITE
# overrides; without PYTHON (Debian's python3) the package is left out. docs/python.md.
PYTHON ?= /usr/bin/python3
PYVER  := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
ifeq ($(PREFIX),/usr)
PYSITE ?= $(PREFIX)/lib/python3/dist-packages
else
PYSITE ?= $(PREFIX)/lib/python$(PYVER)/dist-packages
endif

# actlab.torch's optional C++ extension (python/actlab/torch/_ext.cpp: the kernel call as a C++
# autograd node, about 8 us less per module forward+backward than the ctypes path;
# docs/python.md, "Binding"), B/actlab_torch_ext.so, next to the library the package loads. Built
# when Debian's libtorch-dev and pybind11-dev headers are there (scripts/install-deps.sh installs
# them): TORCH_EXT=0 skips it, TORCH_EXT=1 requires it; without it the package uses ctypes. Its
# own flags (not CFLAGS: never sanitized; it calls the library through ctypes' addresses, so
# under `make asan` it drives the sanitized library); the C++ ABI is torch's.
CXX       ?= g++
TORCH_EXT ?= $(shell test -f /usr/include/torch/csrc/autograd/function.h && \
                 test -f /usr/include/pybind11/pybind11.h && \
                 test -n '$(PYVER)' && test -f /usr/include/python$(PYVER)/Python.h && \
                 echo 1 || echo 0)
TORCH_ABI  = $(shell $(PYTHON) -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))' \
                 2>/dev/null || echo 1)
TORCH_CXXFLAGS ?= -O2 -std=c++17 -fPIC -Wall -Wextra -Wno-unused-parameter
ifeq ($(TORCH_EXT),1)
PY_EXT = $(B)/actlab_torch_ext.so
endif
all: $(PY_EXT)
python-ext: $(B)/actlab_torch_ext.so

$(B)/actlab_torch_ext.so: python/actlab/torch/_ext.cpp include/actlab/act.h include/actlab/expr.h
	@mkdir -p $(dir $@)
	@echo '  CXX $< (actlab.torch extension)'
	$(CXX) $(TORCH_CXXFLAGS) -shared -D_GLIBCXX_USE_CXX11_ABI=$(TORCH_ABI) -Iinclude \
	    -I/usr/include/torch/csrc/api/include -I/usr/include/python$(PYVER) $< \
	    -ltorch -ltorch_cpu -lc10 -ltorch_python -o $@.tmp && mv $@.tmp $@

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/actlab \
	    $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(B)/libactlab.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(B)/libactlab.so $(DESTDIR)$(PREFIX)/lib/libactlab.so.$(VERSION)
	ln -sf libactlab.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libactlab.so.0
	ln -sf libactlab.so.0 $(DESTDIR)$(PREFIX)/lib/libactlab.so
	install -m 644 include/actlab/*.h $(DESTDIR)$(PREFIX)/include/actlab/
	install -m 755 $(B)/actlab $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@LIBS@|$(DEPS_LIBS) -lm|' actlab.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/actlab.pc
ifneq ($(PYVER),)
	install -d $(DESTDIR)$(PYSITE)/actlab/torch
	install -m 644 python/actlab/*.py $(DESTDIR)$(PYSITE)/actlab/
	install -m 644 python/actlab/torch/*.py $(DESTDIR)$(PYSITE)/actlab/torch/
	if [ -f $(B)/actlab_torch_ext.so ]; then \
	    install -m 755 $(B)/actlab_torch_ext.so $(DESTDIR)$(PYSITE)/actlab/; fi
	printf '# written by make install\nLIBDIR = "%s"\n' '$(PREFIX)/lib' \
	    > $(DESTDIR)$(PYSITE)/actlab/_paths.py
else
	@echo 'install: no $(PYTHON): the Python package (python/actlab) is not installed'
endif

clean:
	rm -rf build

.PHONY: all deps run check asan bench bench-peers docs fuzz install clean python-ext
# No `.SECONDARY:`: every object is an explicit prerequisite, and a blanket .SECONDARY made make
# skip a new source file's object when the archive it belongs to was newer than the source.
-include $(LIB_OBJ:.o=.d) $(PIC_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(B)/tools/gen_docs.d \
    $(ORCH_OBJ:.o=.d) $(B)/orch/mpi_none.d
