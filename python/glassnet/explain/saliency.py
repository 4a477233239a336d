"""saliency(): the gradient of the target class score with respect to the input
(Simonyan, Vedaldi & Zisserman 2014, "Deep inside convolutional networks"),
optionally times the input ("gradient × input")."""
from ..autograd import enable_grad, grad
from ._common import as_input, check_output, eval_mode, target_index, target_scores


def input_gradients(model, x, target, who):
    """(d score_{t_i}(x_i) / d x_i, scores f_{t_i}(x_i), target indices) for the
    batch x. The samples of a batch do not mix in eval mode, so the gradient of
    the summed scores holds each sample's own gradient."""
    xi = x.detach().requires_grad_(True)
    with enable_grad():
        out = check_output(model(xi), who)
        idx = target_index(target, out.shape[0], out.shape[1], who)
        scores = target_scores(out, idx)
        (g,) = grad(scores.sum(), xi)
    return g.detach(), scores.detach(), idx


def saliency(model, x, target, *, times_input=False):
    """Input gradients of the target scores, the shape of `x` (a glassnet
    tensor: ``.numpy()`` or ``np.asarray`` gives the array). target: a class
    index or one index per sample. times_input: multiply by `x` (gradient ×
    input). The model runs in eval mode; its mode is restored."""
    x = as_input(x, "saliency")
    with eval_mode(model):
        g, _, _ = input_gradients(model, x, target, "saliency")
    return g * x if times_input else g
