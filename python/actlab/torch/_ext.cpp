// _ext.cpp -- actlab.torch's kernel call as a C++ autograd node (the optional extension,
// actlab_torch_ext.so; docs/python.md, "Binding"). One Python call does what the ctypes path
// (actlab/torch/__init__.py: _pack, _run, _Kernel) does in Python: the contiguous input, the
// parameters packed as (n_params, C) or (n_params,) floats, y, and a node whose backward calls
// act_act_backward / act_expr_backward for dx and the parameter gradients. The results are the
// ctypes path's bit for bit: the same kernels on the same buffers, and parameter gradients handed
// to autograd as the same slices of the same dp (python/tests/test_torch.py checks every
// built-in).
//
// The library's functions are reached through pointers that actlab._lib's ctypes handle gives
// (init()), so the extension runs exactly the libactlab.so the package loaded and does not link
// it. Built by `make` when libtorch-dev and pybind11-dev are installed (Makefile, python-ext).
#include <torch/csrc/Exceptions.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/csrc/autograd/saved_variable.h>
#include <torch/csrc/utils/pybind.h>

#include <ATen/Parallel.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <actlab/act.h>
#include <actlab/expr.h>

namespace py = pybind11;
using at::Tensor;
using torch::autograd::variable_list;

namespace {

typedef int (*act_fwd_fn)(act_act_id, const float *, unsigned, const float *, float *, act_shape);
typedef int (*act_bwd_fn)(act_act_id, const float *, unsigned, const float *, const float *,
                          float *, float *, act_shape);
typedef int (*expr_fwd_fn)(const act_expr_prog *, const float *, unsigned, const float *, float *,
                           act_shape);
typedef int (*expr_bwd_fn)(const act_expr_prog *, const float *, unsigned, const float *,
                           const float *, float *, float *, act_shape);
typedef int (*threads_set_fn)(int);

struct Lib {
    act_fwd_fn act_fwd = nullptr;
    act_bwd_fn act_bwd = nullptr;
    expr_fwd_fn expr_fwd = nullptr;
    expr_bwd_fn expr_bwd = nullptr;
    threads_set_fn threads_set = nullptr;
    PyObject *error = nullptr;        // actlab._lib.Error(status, what); never released
} lib;

enum Kind { BUILTIN = 0, EXPR = 1 };
constexpr int64_t GIL_FREE = 1 << 14;   // elements from which a kernel call releases the GIL

// The kernels follow torch's thread count unless actlab.set_num_threads(n) was called
// (actlab.torch's _sync_threads, the same rule).
std::atomic<int> user_threads{0};
std::atomic<int> threads_seen{-1};

// A failed call as actlab._lib.Error(status, what); the GIL must be held.
void set_error(int rc, const char *what)
{
    PyObject *e = PyObject_CallFunction(lib.error, "is", rc, what);
    if (e) {
        PyErr_SetObject((PyObject *)Py_TYPE(e), e);
        Py_DECREF(e);
    }
}

// In forward (a Python call, GIL held): pybind11 restores the error.
[[noreturn]] void fail_py(int rc, const char *what)
{
    set_error(rc, what);
    throw py::error_already_set();
}

// In backward (the autograd engine, no GIL): torch's python_error carries it to the caller.
[[noreturn]] void fail_engine(int rc, const char *what)
{
    py::gil_scoped_acquire gil;
    set_error(rc, what);
    python_error e;
    e.persist();
    throw e;
}

int sync_threads()
{
    if (user_threads.load(std::memory_order_relaxed))
        return 0;
    int n = at::get_num_threads();
    if (n != threads_seen.load(std::memory_order_relaxed)) {
        int rc = lib.threads_set(n);
        if (rc)
            return rc;
        threads_seen.store(n, std::memory_order_relaxed);
    }
    return 0;
}

std::string shape_str(const Tensor &x)
{
    std::string s = "(";
    for (int64_t d = 0; d < x.dim(); d++)
        s += (d ? ", " : "") + std::to_string(x.size(d));
    return s + (x.dim() == 1 ? ",)" : ")");
}

// (outer, channels, inner) of a contiguous x, channels along dim 1 (C < 0: flat): _layout.
act_shape layout(const Tensor &x, int64_t C)
{
    if (C < 0)
        return act_shape{1, 1, (size_t)x.numel()};
    if (x.dim() < 2 || x.size(1) != C)
        throw py::value_error("actlab: expected an input of shape (N, " + std::to_string(C) +
                              ", ...), got " + shape_str(x));
    size_t n = (size_t)x.size(0), c = (size_t)C;
    return act_shape{n, c, n && c ? (size_t)x.numel() / (n * c) : 0};
}

const float *fptr(const Tensor &t)
{
    return t.defined() && t.numel() ? t.data_ptr<float>() : nullptr;
}

float *fptr_mut(const Tensor &t)
{
    return t.defined() && t.numel() ? t.data_ptr<float>() : nullptr;
}

int call_forward(int kind, int64_t handle, const Tensor &p, unsigned flags, const Tensor &x,
                 const Tensor &y, act_shape s)
{
    int rc = sync_threads();
    if (rc)
        return rc;
    const float *px = x.numel() ? x.data_ptr<float>() : nullptr;
    float *py_ = y.numel() ? y.data_ptr<float>() : nullptr;
    if (kind == BUILTIN)
        return lib.act_fwd((act_act_id)handle, fptr(p), flags, px, py_, s);
    return lib.expr_fwd((const act_expr_prog *)(uintptr_t)handle, fptr(p), flags, px, py_, s);
}

// y = f(x; P) without autograd (inference, or nothing requires a gradient).
Tensor forward_direct(int kind, int64_t handle, const Tensor &x, const Tensor &P, int64_t C,
                      act_shape s)
{
    Tensor y = at::empty_like(x);
    unsigned flags = C < 0 ? 0u : ACT_PER_CHANNEL;
    int rc;
    if (x.numel() >= GIL_FREE) {
        py::gil_scoped_release nogil;
        rc = call_forward(kind, handle, P, flags, x, y, s);
    } else {
        rc = call_forward(kind, handle, P, flags, x, y, s);
    }
    if (rc)
        fail_py(rc, "forward");
    return y;
}

// The node (what torch's generated backward nodes are): next edges x, then the parameters
// (one packed (n_params, C) tensor, or each parameter tensor); backward calls the kernel's
// backward for dx and dp and hands each wanted parameter its slice of dp.
struct KernelBackward : public torch::autograd::Node {
    torch::autograd::SavedVariable x_, P_;
    int kind = BUILTIN;
    int64_t handle = 0, C = -1;
    int n_in = 0;              // parameter edges
    bool packed = false;
    act_shape s{0, 0, 0};

    std::string name() const override { return "ActlabKernelBackward"; }

    void release_variables() override
    {
        x_.reset_data();
        P_.reset_data();
    }

    variable_list apply(variable_list &&grads) override
    {
        Tensor x = x_.unpack(), P = P_.unpack();
        bool want_x = task_should_compute_output(0);
        bool want_p = false;
        for (int k = 0; k < n_in; k++)
            want_p = want_p || task_should_compute_output(1 + k);
        Tensor gy = grads[0].defined() ? grads[0].contiguous() : at::zeros_like(x);
        Tensor dx = at::empty_like(x);
        Tensor dp = want_p ? at::zeros_like(P) : Tensor();
        unsigned flags = ACT_DX_ASSIGN | (C < 0 ? 0u : ACT_PER_CHANNEL);
        int rc = sync_threads();
        if (!rc) {
            const float *px = x.numel() ? x.data_ptr<float>() : nullptr;
            const float *pg = gy.numel() ? gy.data_ptr<float>() : nullptr;
            float *pdx = dx.numel() ? dx.data_ptr<float>() : nullptr;
            if (kind == BUILTIN)
                rc = lib.act_bwd((act_act_id)handle, fptr(P), flags, px, pg, pdx, fptr_mut(dp), s);
            else
                rc = lib.expr_bwd((const act_expr_prog *)(uintptr_t)handle, fptr(P), flags, px,
                                  pg, pdx, fptr_mut(dp), s);
        }
        if (rc)
            fail_engine(rc, "backward");
        variable_list out(1 + n_in);
        if (want_x)
            out[0] = dx;
        if (packed) {
            if (want_p)
                out[1] = dp;
        } else {
            // the slices the ctypes path's torch.stack hands back through its unbind
            for (int k = 0; k < n_in; k++)
                if (task_should_compute_output(1 + k))
                    out[1 + k] = dp.select(0, k);
        }
        return out;
    }
};

// y = f(x; P) with the node: ins are the parameter inputs (edges), P the values the kernels read.
Tensor forward_node(int kind, int64_t handle, const Tensor &x, const Tensor &P,
                    const variable_list &ins, bool packed, int64_t C, act_shape s)
{
    std::shared_ptr<KernelBackward> node(new KernelBackward(), torch::autograd::deleteNode);
    node->set_next_edges(torch::autograd::collect_next_edges(x, ins));
    Tensor y = forward_direct(kind, handle, x, P, C, s);
    node->kind = kind;
    node->handle = handle;
    node->C = C;
    node->n_in = (int)ins.size();
    node->packed = packed;
    node->s = s;
    node->x_ = torch::autograd::SavedVariable(x, false);
    node->P_ = torch::autograd::SavedVariable(P, false);
    torch::autograd::set_history(y, node);
    return y;
}

// A parameter the kernels can read without torch.stack: float32 on the CPU, 0-d for scalar
// parameters, (C,) (any stride) per channel. Others take _pack's stack (same values, same
// autograd graph).
bool direct_param(const Tensor &p, int64_t C)
{
    if (p.scalar_type() != at::kFloat || !p.is_cpu() || p.layout() != at::kStrided)
        return false;
    return C < 0 ? p.dim() == 0 : p.dim() == 1 && p.size(0) == C;
}

// _pack: torch.stack([p.reshape(()) ...]) or torch.stack([p.expand(C) ...]), then float32.
Tensor pack_stack(const std::vector<Tensor> &params, int64_t C)
{
    std::vector<Tensor> v;
    v.reserve(params.size());
    for (const Tensor &p : params)
        v.push_back(C < 0 ? p.reshape({}) : p.expand({C}));
    return at::stack(v).to(at::kFloat);
}

bool grad_wanted(const Tensor &x, const std::vector<Tensor> &params)
{
    if (!torch::autograd::GradMode::is_enabled())
        return false;
    if (x.requires_grad())
        return true;
    for (const Tensor &p : params)
        if (p.requires_grad())
            return true;
    return false;
}

Tensor run_packed(int kind, int64_t handle, const Tensor &x_in, const c10::optional<Tensor> &p,
                  int64_t C)
{
    Tensor x = x_in.contiguous();
    act_shape s = layout(x, C);
    bool want = torch::autograd::GradMode::is_enabled() &&
                (x.requires_grad() || (p && p->defined() && p->requires_grad()));
    if (!want) {
        Tensor P = p && p->defined() ? p->detach().contiguous() : Tensor();
        return forward_direct(kind, handle, x, P, C, s);
    }
    // as _Kernel: p.detach().contiguous(), saved
    Tensor P = p && p->defined() ? p->detach().contiguous() : Tensor();
    variable_list ins;
    if (P.defined())
        ins.push_back(*p);
    return forward_node(kind, handle, x, P, ins, true, C, s);
}

// A built-in (kind BUILTIN) or a program (EXPR) on float32 CPU x with parameter tensors
// `params` (0-d each, or (C,) with C >= 0): _pack then _run in one call.
Tensor run(int kind, int64_t handle, const Tensor &x_in, const std::vector<Tensor> &params,
           int64_t C)
{
    int n = (int)params.size();
    bool direct = true;
    for (int k = 0; k < n && direct; k++)
        direct = direct_param(params[k], C);
    if (!direct) {
        c10::optional<Tensor> P;
        if (n)
            P = pack_stack(params, C);
        return run_packed(kind, handle, x_in, P, C);
    }
    Tensor x = x_in.contiguous();
    act_shape s = layout(x, C);
    Tensor P;
    if (n) {                                  // the values _pack's stack would hold
        int64_t width = C < 0 ? 1 : C;
        P = at::empty(C < 0 ? at::IntArrayRef{n} : at::IntArrayRef{n, C},
                      at::TensorOptions().dtype(at::kFloat));
        float *dst = P.data_ptr<float>();
        for (int k = 0; k < n; k++) {
            const Tensor &p = params[k];
            const float *src = p.data_ptr<float>();
            int64_t stride = C < 0 ? 1 : p.stride(0);
            if (stride == 1)
                std::memcpy(dst + k * width, src, (size_t)width * sizeof(float));
            else
                for (int64_t c = 0; c < width; c++)
                    dst[k * width + c] = src[c * stride];
        }
    }
    if (!grad_wanted(x, params))
        return forward_direct(kind, handle, x, P, C, s);
    return forward_node(kind, handle, x, P, params, false, C, s);
}

}  // namespace

PYBIND11_MODULE(actlab_torch_ext, m)
{
    m.doc() = "actlab.torch's kernel call as a C++ autograd node (docs/python.md)";
    m.def("init",
          [](uintptr_t act_fwd, uintptr_t act_bwd, uintptr_t expr_fwd, uintptr_t expr_bwd,
             uintptr_t threads_set, py::object error) {
              lib.act_fwd = (act_fwd_fn)act_fwd;
              lib.act_bwd = (act_bwd_fn)act_bwd;
              lib.expr_fwd = (expr_fwd_fn)expr_fwd;
              lib.expr_bwd = (expr_bwd_fn)expr_bwd;
              lib.threads_set = (threads_set_fn)threads_set;
              lib.error = error.release().ptr();
          },
          "the library's entry points (addresses from ctypes) and actlab._lib.Error");
    m.def("act", [](int64_t id, const Tensor &x, const std::vector<Tensor> &params,
                    int64_t C) { return run(BUILTIN, id, x, params, C); },
          "built-in `id` on float32 CPU x; params: 0-d tensors, or (C,) with C >= 0");
    m.def("module",
          [](int64_t id, const Tensor &x, py::dict ps, py::dict bs, py::sequence names, int64_t C) {
              std::vector<Tensor> v;
              v.reserve(names.size());
              for (py::handle n : names) {
                  PyObject *o = PyDict_GetItem(ps.ptr(), n.ptr());
                  if (!o)
                      o = PyDict_GetItem(bs.ptr(), n.ptr());
                  if (!o)
                      throw py::attribute_error("actlab: the module has no parameter " +
                                                py::cast<std::string>(n));
                  v.push_back(py::cast<Tensor>(py::handle(o)));
              }
              return run(BUILTIN, id, x, v, C);
          },
          "Activation.forward: its parameters by name from _parameters, else _buffers");
    m.def("expr", [](int64_t prog, const Tensor &x, const std::vector<Tensor> &params,
                     int64_t C) { return run(EXPR, prog, x, params, C); },
          "compiled expression (act_expr_prog address) on float32 CPU x");
    m.def("run", &run_packed,
          "kind (0 built-in, 1 expression), handle, x, p packed as _run's (or None), C (-1)");
    m.def("set_user_threads", [](bool user) {
              user_threads.store(user ? 1 : 0);
              threads_seen.store(-1);
          },
          "actlab.set_num_threads(n) (True) or (None) (False)");
}
