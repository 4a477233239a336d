// Recurrent layers (torch.nn.RNN / LSTM / GRU): one layer, every direction,
// forward and backward over the whole sequence in C++.
//
// The work of a layer-direction is arranged as cuDNN and oneDNN do it:
//  - the input projection of every time step is one GEMM,
//      G (T·B, NG·H) = X (T·B, I) · W_ihᵀ + bias;
//  - each step is one GEMM h_{t-1} · W_hhᵀ accumulated into G[t], then one
//    fused gate kernel (nonlinearities and state update, rnn_cells.h);
//  - the backward walks the steps in reverse with one fused gate-backward
//    kernel and one GEMM dG[t] · W_hh per step, and forms the weight
//    gradients at the end as a few GEMMs over all steps at once:
//      dW_ih = dGᵀ · X,  dW_hh = dGᵀ · H_prev,  db = column sums of dG.
//
// Gate order and formulas are torch's (NG gates of H rows each in W_ih/W_hh):
//   RNN:  h = tanh|relu(W_ih x + b_ih + W_hh h + b_hh)                  NG = 1
//   LSTM: i, f, g, o = σ, σ, tanh, σ of (W_ih x + b_ih + W_hh h + b_hh)  NG = 4
//         c' = f·c + i·g,  h' = o·tanh(c')
//   GRU:  r, z = σ(W_i{r,z} x + b_i{r,z} + W_h{r,z} h + b_h{r,z})        NG = 3
//         n = tanh(W_in x + b_in + r·(W_hn h + b_hn)),  h' = (1 - z)·n + z·h
//
// Variable length without packing: with lengths (B,) int64, sequence b is
// active at time t iff t < lengths[b]. An inactive step leaves the state
// unchanged and writes zeros to the output, so the final state is each
// sequence's own last state, and the reverse direction starts at each
// sequence's own last element: what torch computes on a packed sequence.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor.h"

namespace glassnet {

enum class RnnMode : uint8_t { Tanh, Relu, Lstm, Gru };

// Gates per hidden unit: 1, 1, 4, 3.
int rnn_gate_count(RnnMode mode);

// The parameters of one direction of one layer, torch's shapes:
//   w_ih (NG·H, I), w_hh (NG·H, P), b_ih and b_hh (NG·H) or both undefined,
//   w_hr (P, H): an LSTM's projection (torch's proj_size = P), or undefined
//   (then P = H). h has P units, the LSTM cell c has H.
struct RnnWeights {
  Tensor w_ih, w_hh, b_ih, b_hh, w_hr;
};

// What the backward needs, per direction (see rnn.cpp for each buffer).
struct RnnSaved {
  Tensor x;                   // (T, B, I) contiguous
  Tensor lengths;             // (B,) int64, or undefined
  std::vector<Tensor> gates;  // per direction: (T, B, NG·H) activations (LSTM, GRU)
  std::vector<Tensor> states; // per direction: (T+1, B, P) hidden states in time order
  std::vector<Tensor> cells;  // LSTM: (T+1, B, H) cell states
  std::vector<Tensor> extra;  // LSTM: (T, B, H) tanh(c);  GRU: (T, B, H) W_hn h + b_hn
  std::vector<Tensor> proj;   // LSTM with w_hr: (T, B, H) o·tanh(c), the projection's input
};

struct RnnForwardResult {
  Tensor output;  // (T, B, D·P): direction d in columns [d·P, (d+1)·P)
  Tensor h_n;     // (D, B, P)
  Tensor c_n;     // (D, B, H), LSTM only
  RnnSaved saved;
};

// One layer over a time-major sequence, D = weights.size() directions (1 or
// 2; the second runs in reverse time).
//   x (T, B, I) any strides, T ≥ 1; h0 (D, B, P) and c0 (D, B, H) or
//   undefined (zeros; c0 only for LSTM); lengths (B,) int64 in [0, T] or
//   undefined.
// Shapes, dtypes (float32/float64, all equal) and lengths are checked here
// with a ValueError/TypeError naming what is wrong.
RnnForwardResult rnn_layer_forward(RnnMode mode, const Tensor& x, const Tensor& h0, const Tensor& c0,
                                   const std::vector<RnnWeights>& weights, const Tensor& lengths);

struct RnnBackwardResult {
  Tensor grad_x;                      // (T, B, I) when asked for
  Tensor grad_h0, grad_c0;            // (D, B, P) and (D, B, H) when asked for
  std::vector<RnnWeights> grad_weights;  // per direction, biases when the layer has them
};

// grad_output (T, B, D·P), grad_h_n (D, B, P) and grad_c_n (D, B, H), any of
// them undefined for zero.
RnnBackwardResult rnn_layer_backward(RnnMode mode, const RnnSaved& saved, const std::vector<RnnWeights>& weights,
                                     const Tensor& grad_output, const Tensor& grad_h_n, const Tensor& grad_c_n,
                                     bool need_x, bool need_h0, bool need_c0, bool need_weights);

}  // namespace glassnet
