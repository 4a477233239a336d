"""The differentiable ops behind gn.Tensor's methods, one module per family.
Each op is a Function whose forward calls one C++ kernel."""
