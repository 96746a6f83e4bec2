#!/bin/sh
# python_notorch.sh -- without PyTorch, `import actlab` works and `import actlab.torch` fails with
# an ImportError that says what is missing and how to install it (torch hidden through
# sys.modules in a fresh interpreter); a missing library is an ImportError naming ACTLAB_LIB.
set -eu
B=${B:-build}
. python/tests/env.sh
needs numpy
"$PY" - <<'PYEOF'
import sys
sys.modules["torch"] = None
import actlab
assert actlab.forward("relu", [-1.0, 2.0]).tolist() == [0.0, 2.0]
try:
    import actlab.torch
except ImportError as e:
    msg = str(e)
    print(msg)
    assert "actlab.torch needs PyTorch" in msg and "python3-torch" in msg, msg
    assert "import actlab" in msg, msg
else:
    raise SystemExit("import actlab.torch succeeded without torch")
PYEOF
out=$(ACTLAB_LIB=/nonexistent/libactlab.so "$PY" -c "import actlab" 2>&1) && exit 1
echo "$out" | grep -q "ImportError: actlab: cannot load libactlab.so (set ACTLAB_LIB" ||
    { echo "$out"; exit 1; }
