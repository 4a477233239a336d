"""Finite-difference checks of analytic gradients (central differences, float64)."""
import numpy as np

from .. import _C


def _flat_inputs(inputs):
    from .._tensor import Tensor

    return [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]


def _numerical_jacobian(fn, inputs, targets, eps):
    """d(flattened outputs)/d(each target), one column per target element.
    Grad mode stays on: gradgradcheck's function itself calls autograd."""
    jacobians = []
    for t in targets:
        data = t.detach().numpy()  # shares memory: perturb in place
        cols = []
        for idx in (np.ndindex(*data.shape) if data.ndim else [()]):
            orig = data[idx].item()
            data[idx] = orig + eps
            plus = _outputs_numpy(fn(*inputs))
            data[idx] = orig - eps
            minus = _outputs_numpy(fn(*inputs))
            data[idx] = orig
            cols.append((plus - minus) / (2 * eps))
        jacobians.append(np.stack(cols, axis=1) if cols else np.zeros((0, 0)))
    return jacobians


def _outputs_numpy(out):
    from .._tensor import Tensor

    outs = out if isinstance(out, (tuple, list)) else (out,)
    return np.concatenate([o.detach().numpy().astype(np.float64).ravel() for o in outs if isinstance(o, Tensor)])


def _analytical_jacobian(fn, inputs, targets):
    from .. import autograd
    from .._tensor import Tensor

    out = fn(*inputs)
    outs = [o for o in (out if isinstance(out, (tuple, list)) else (out,)) if isinstance(o, Tensor)]
    sizes = [o.numel() for o in outs]
    total = sum(sizes)
    rows = [np.zeros((total, t.numel())) for t in targets]
    row = 0
    for o, size in zip(outs, sizes):
        for k in range(size):
            if not o.requires_grad:
                row += 1
                continue
            g = np.zeros(size)
            g[k] = 1.0
            seed = Tensor._wrap(_C.from_numpy(g.reshape(o.shape).astype(o.dtype.numpy)))
            grads = autograd.grad(o, targets, seed, retain_graph=True, allow_unused=True)
            for j, gr in enumerate(grads):
                if gr is not None:
                    rows[j][row] = gr.detach().numpy().astype(np.float64).ravel()
            row += 1
    return rows


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, **_ignored):
    """Compares the analytic Jacobian of `fn` at `inputs` with central finite
    differences. Inputs that require grad should be float64."""
    from .._tensor import Tensor

    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    targets = _flat_inputs(inputs)
    if not targets:
        raise ValueError("[gradcheck] no input requires grad")
    for t in targets:
        if t.dtype.name != "float64":
            import warnings

            warnings.warn(f"[gradcheck] input of dtype {t.dtype} is not float64; the check may fail from rounding")
    numerical = _numerical_jacobian(fn, inputs, targets, eps)
    analytical = _analytical_jacobian(fn, inputs, targets)
    for i, (a, n) in enumerate(zip(analytical, numerical)):
        if a.shape != n.shape or not np.allclose(a, n, atol=atol, rtol=rtol):
            if raise_exception:
                err = np.max(np.abs(a - n)) if a.shape == n.shape else "shape mismatch"
                raise RuntimeError(
                    f"[gradcheck] Jacobian mismatch for input {i}: max abs difference {err}\n"
                    f"numerical:\n{n}\nanalytical:\n{a}"
                )
            return False
    return True


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """gradcheck of the first derivative: checks double backward."""
    from .. import autograd
    from .._tensor import Tensor

    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    targets = _flat_inputs(inputs)

    def first_derivative(*xs):
        out = fn(*xs)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        total = sum(o.sum() for o in outs if isinstance(o, Tensor))
        ts = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        return autograd.grad(total, ts, create_graph=True, allow_unused=True, materialize_grads=True)

    return gradcheck(first_derivative, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)
