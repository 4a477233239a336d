"""The backward pass: walks the graph from the outputs in dependency order.

Gradients flowing into a node are summed per output; a node runs once every
node that feeds it has run, so each op's backward is called exactly once.
Broadcasting is undone here, in one place: a gradient whose shape differs
from its input's is summed down to that shape before it moves on.
"""
from .grad_mode import state


def _reduce_to_input(grad, meta):
    shape, dtype = meta
    if grad.shape != shape:
        grad = grad.sum_to_size(shape)
    if grad.dtype is not dtype:
        grad = grad.to(dtype)
    return grad


def _topological_order(roots):
    """Nodes reachable from `roots` (Function nodes only), each after every node
    that sends it a gradient. Iterative, so deep graphs don't hit the
    recursion limit."""
    from .function import Function

    order, visited = [], set()
    for root in roots:
        if id(root) in visited:
            continue
        visited.add(id(root))
        stack = [(root, iter(root.next_functions))]
        while stack:
            node, edges = stack[-1]
            for nxt in edges:
                if isinstance(nxt, Function) and id(nxt) not in visited:
                    visited.add(id(nxt))
                    stack.append((nxt, iter(nxt.next_functions)))
                    break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


def run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=None, accumulate=True):
    """Backpropagates `grad_tensors` from `tensors`.

    With accumulate=True, leaf tensors get their gradient added to `.grad`
    (Tensor.backward). Otherwise the gradients of `inputs` are returned
    (autograd.grad) and no `.grad` is touched.
    """
    from .._tensor import Tensor

    buffers = {}  # id(node) -> [grad per output]
    nodes = {}
    roots = []
    leaf_grads = {}  # id(leaf) -> accumulated gradient, for autograd.grad
    for t, g in zip(tensors, grad_tensors):
        if t.grad_fn is None:
            if not t.requires_grad:
                raise RuntimeError(
                    "[backward] element 0 of tensors does not require grad and does not have a grad_fn"
                )
            _deliver_to_leaf(t, g, leaf_grads, accumulate, create_graph)
            continue
        node = t.grad_fn
        if id(node) not in buffers:
            buffers[id(node)] = [None] * node._num_outputs
            nodes[id(node)] = node
            roots.append(node)
        slot = buffers[id(node)]
        slot[t._output_nr] = g if slot[t._output_nr] is None else slot[t._output_nr] + g

    # Gradients asked for by autograd.grad on non-leaf tensors are read off
    # their node's buffer just before the node runs.
    wanted = {}
    if inputs is not None:
        for t in inputs:
            if t.grad_fn is not None:
                wanted.setdefault(id(t.grad_fn), []).append(t)

    previous = state.grad_enabled
    state.grad_enabled = create_graph
    captured = {}
    try:
        for node in _topological_order(roots):
            grads = buffers.pop(id(node), None)
            if grads is None:
                continue  # nothing flowed into this node
            for t in wanted.get(id(node), ()):
                captured[id(t)] = grads[t._output_nr]
            if node._hooks:
                for i, hooks in node._hooks.items():
                    for hook in hooks:
                        if grads[i] is not None:
                            result = hook(grads[i])
                            if result is not None:
                                grads[i] = result
            if all(g is None for g in grads):
                continue
            grads = [g if g is not None else _zeros_for_output(node, i) for i, g in enumerate(grads)]
            input_grads = node.backward(node, *grads)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            if len(input_grads) < len(node.next_functions) and any(
                e is not None for e in node.next_functions[len(input_grads):]
            ):
                raise RuntimeError(
                    f"[{node.name()}] backward returned {len(input_grads)} gradients, "
                    f"expected {len(node.next_functions)} (one per forward input)"
                )
            if not retain_graph:
                node._release()
            for i, (nxt, g, meta) in enumerate(zip(node.next_functions, input_grads, node._input_meta)):
                if nxt is None or g is None:
                    continue
                if not isinstance(g, Tensor):
                    raise TypeError(f"[{node.name()}] backward must return Tensors or None, got {type(g).__name__}")
                g = _reduce_to_input(g, meta)
                if isinstance(nxt, Tensor):
                    _deliver_to_leaf(nxt, g, leaf_grads, accumulate, create_graph)
                    continue
                key = id(nxt)
                if key not in buffers:
                    buffers[key] = [None] * nxt._num_outputs
                slot = buffers[key]
                out_nr = node._edge_output_nrs[i]
                slot[out_nr] = g if slot[out_nr] is None else slot[out_nr] + g
    finally:
        state.grad_enabled = previous

    if inputs is None:
        return None
    results = []
    for t in inputs:
        results.append(leaf_grads.get(id(t)) if t.grad_fn is None else captured.get(id(t)))
    return results


def _zeros_for_output(node, i):
    from .._tensor import Tensor

    shape, dtype = node._output_meta[i]
    return Tensor._zeros(shape, dtype)


def _deliver_to_leaf(leaf, grad, leaf_grads, accumulate, create_graph):
    for hook in leaf._leaf_hooks():
        result = hook(grad)
        if result is not None:
            grad = result
    if not accumulate:
        key = id(leaf)
        leaf_grads[key] = grad if key not in leaf_grads else leaf_grads[key] + grad
        return
    if not create_graph:
        grad = grad.detach()
    if leaf.grad is None:
        # Own the memory: the same gradient object can reach several leaves
        # (c = a + b), and an expanded view can't be updated in place.
        leaf.grad = grad.clone() if create_graph is False else grad
    else:
        leaf.grad = leaf.grad + grad
    for hook in leaf._post_accumulate_hooks():
        hook(leaf)
