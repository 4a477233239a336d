// The fused gate kernels of one recurrent time step (rnn.h drives them):
// each forward applies a cell's nonlinearities and state update to a batch
// of rows in one pass, each backward turns the state gradient into the
// pre-activation gradient of every gate, reading only what the forward saved
// (no transcendental function is evaluated again).
//
// Common arguments: B rows (batch), H hidden units; state rows (h, c) are
// contiguous with stride H; gate rows with stride NG·H in torch's gate
// order; `out` is this direction's slice of the layer output (row stride
// out_rs). Row b is active iff lengths == nullptr or t < lengths[b]; an
// inactive row copies its state forward, writes 0 to out, and in the backward
// passes its state gradient through with zero gate gradients.
//
// dh_carry (B, H) holds the gradient of h_{t} from later steps on entry; on
// exit it holds the part of the gradient of h_{t-1} that does not go through
// W_hh (the caller then adds dG · W_hh with one GEMM). dy is the output's
// gradient at step t (row stride dy_rs), or null for zero.
#pragma once

#include <cstdint>

namespace glassnet {

// gates (B, 4H): pre-activations in, [i, f, g, o] activations out.
// c_new = f·c_prev + i·g, tanh_c = tanh(c_new), h_new = o·tanh_c.
// With a projection after the cell, h_prev and out are null: h_new then
// receives o·tanh_c (0 on inactive rows) and the caller projects it.
template <class T>
void lstm_cell_forward(int64_t B, int64_t H, T* gates, const T* h_prev, const T* c_prev, T* h_new, T* c_new,
                       T* tanh_c, T* out, int64_t out_rs, const int64_t* lengths, int64_t t);
// dgates (B, 4H) = gradients of the pre-activations; dc_carry (B, H) in:
// gradient of c_t from later steps, out: gradient of c_{t-1}.
template <class T>
void lstm_cell_backward(int64_t B, int64_t H, const T* gates, const T* c_prev, const T* tanh_c, const T* dy,
                        int64_t dy_rs, T* dh_carry, T* dc_carry, T* dgates, const int64_t* lengths, int64_t t);

// gx (B, 3H): W_ih x + b_ih in, [r, z, n] activations out; gh (B, 3H) =
// W_hh h_prev + b_hh; hn (B, H) keeps gh's n block for the backward.
template <class T>
void gru_cell_forward(int64_t B, int64_t H, T* gx, const T* gh, const T* h_prev, T* h_new, T* hn, T* out,
                      int64_t out_rs, const int64_t* lengths, int64_t t);
// dgx (B, 3H): gradient of W_ih x + b_ih; dgh (B, 3H): of W_hh h + b_hh
// (they differ in the n block, where the hidden part is scaled by r).
template <class T>
void gru_cell_backward(int64_t B, int64_t H, const T* gates, const T* hn, const T* h_prev, const T* dy, int64_t dy_rs,
                       T* dh_carry, T* dgx, T* dgh, const int64_t* lengths, int64_t t);

// pre (B, H): pre-activation; h_new = tanh(pre) or relu(pre).
template <class T>
void rnn_cell_forward(int64_t B, int64_t H, bool relu, const T* pre, const T* h_prev, T* h_new, T* out,
                      int64_t out_rs, const int64_t* lengths, int64_t t);
// h (B, H) = h_new of the forward; dpre (B, H) out.
template <class T>
void rnn_cell_backward(int64_t B, int64_t H, bool relu, const T* h, const T* dy, int64_t dy_rs, T* dh_carry, T* dpre,
                       const int64_t* lengths, int64_t t);

}  // namespace glassnet
