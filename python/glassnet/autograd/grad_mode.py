"""Whether operations record the graph: no_grad, enable_grad, set_grad_enabled."""
import functools


class _State:
    grad_enabled = True


state = _State()


def is_grad_enabled():
    return state.grad_enabled


class _GradMode:
    """Context manager and decorator that sets grad mode, then restores it."""

    mode = True

    def __enter__(self):
        self._previous = state.grad_enabled
        state.grad_enabled = self.mode

    def __exit__(self, *exc):
        state.grad_enabled = self._previous
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    mode = False


class enable_grad(_GradMode):
    mode = True


class set_grad_enabled(_GradMode):
    def __init__(self, mode):
        self.mode = bool(mode)
        self._previous = state.grad_enabled
        state.grad_enabled = self.mode  # takes effect as a function call, as in torch

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        state.grad_enabled = self._previous
        return False


class inference_mode(no_grad):
    def __init__(self, mode=True):
        self.mode = not mode
