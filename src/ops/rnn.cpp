// One recurrent layer, forward and backward over the whole sequence (rnn.h):
// the checks at the op boundary, then per direction a time loop of one GEMM
// and one fused gate kernel (rnn_cells.h) per step.
//
// Buffers of a direction, all contiguous and indexed by time t (not by the
// order the steps ran in), so the weight gradients are single GEMMs over
// T·B rows in both directions:
//   gates  (T, B, NG·H)  forward: pre-activations, then activations
//   states (T+1, B, H)   forward direction: states[0] = h0, states[t+1] = h after t
//                        reverse direction: states[T] = h0, states[t]   = h after t
//   so the state entering step t is states[t] (forward) or states[t+1]
//   (reverse): the rows [0, T·B) or [B, (T+1)·B) of the buffer.
// An LSTM with a projection (proj_size P < H, torch's weight_hr) keeps
// states of size P and cells of size H, and adds
//   proj   (T, B, H)     m = o·tanh(c) before the projection h = m · W_hrᵀ.
#include "ops/rnn.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <exception>
#include <memory>
#include <thread>

#include "dispatch.h"
#include "errors.h"
#include "gemm/gemm.h"
#include "ops/linear.h"
#include "ops/rnn_cells.h"
#include "parallel.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

namespace glassnet {

int rnn_gate_count(RnnMode mode) {
  switch (mode) {
    case RnnMode::Lstm: return 4;
    case RnnMode::Gru: return 3;
    default: return 1;
  }
}

namespace {

const char* mode_name(RnnMode mode) {
  switch (mode) {
    case RnnMode::Tanh: return "rnn_tanh";
    case RnnMode::Relu: return "rnn_relu";
    case RnnMode::Lstm: return "lstm";
    case RnnMode::Gru: return "gru";
  }
  return "rnn";
}

// H: hidden (cell) size; P: size of h, P = H unless the LSTM projects.
struct Dims {
  int64_t T = 0, B = 0, I = 0, H = 0, P = 0, G = 0, D = 0;
};

void check_cpu_dtype(const Tensor& t, DType dtype, const char* op, const char* what) {
  if (t.device().type != DeviceType::CPU)
    fail<RuntimeError>("[", op, "] runs on the CPU only, got ", what, " on another device");
  if (t.dtype() != dtype)
    fail<TypeError>("[", op, "] expected ", what, " of dtype ", dtype_name(dtype), " (the input's), got ",
                    dtype_name(t.dtype()));
}

void check_state(const Tensor& s, const Dims& d, int64_t size, const char* op, const char* what) {
  if (!s.defined()) return;
  if (s.dim() != 3 || s.size(0) != d.D || s.size(1) != d.B || s.size(2) != size)
    fail<ValueError>("[", op, "] expected ", what, " of shape ", shape_str({d.D, d.B, size}), " (directions, batch, ",
                     "state size), got ", shape_str(s.shape()));
}

// Checks everything rnn_layer_forward reads; returns the sizes.
Dims check_forward(RnnMode mode, const Tensor& x, const Tensor& h0, const Tensor& c0,
                   const std::vector<RnnWeights>& weights, const Tensor& lengths) {
  const char* op = mode_name(mode);
  if (x.dim() != 3)
    fail<ValueError>("[", op, "] expected a 3-D input (seq_len, batch, input_size), got shape ", shape_str(x.shape()));
  if (x.size(0) == 0)
    fail<ValueError>("[", op, "] input of shape ", shape_str(x.shape()), " has sequence length 0; a sequence needs ",
                     "at least one step");
  if (x.dtype() != DType::Float32 && x.dtype() != DType::Float64)
    fail<TypeError>("[", op, "] expected a float32 or float64 input, got ", dtype_name(x.dtype()));
  check_cpu_dtype(x, x.dtype(), op, "input");
  if (weights.empty() || weights.size() > 2)
    fail<ValueError>("[", op, "] expected weights for 1 or 2 directions, got ", weights.size());
  Dims d;
  d.T = x.size(0), d.B = x.size(1), d.I = x.size(2), d.D = static_cast<int64_t>(weights.size());
  const int ng = rnn_gate_count(mode);
  const RnnWeights& w0 = weights[0];
  const bool proj = w0.w_hr.defined();
  if (proj && mode != RnnMode::Lstm) fail<ValueError>("[", op, "] only an LSTM has a projection weight_hr");
  if (!w0.w_hh.defined() || w0.w_hh.dim() != 2 || w0.w_hh.size(0) % ng != 0 ||
      (!proj && w0.w_hh.size(0) != ng * w0.w_hh.size(1)))
    fail<ValueError>("[", op, "] expected weight_hh of shape (", ng, "·hidden_size, ",
                     proj ? "proj_size" : "hidden_size", "), got ",
                     w0.w_hh.defined() ? shape_str(w0.w_hh.shape()) : "None");
  d.G = w0.w_hh.size(0), d.H = d.G / ng, d.P = w0.w_hh.size(1);
  for (const RnnWeights& w : weights) {
    if (!w.w_ih.defined() || !w.w_hh.defined())
      fail<ValueError>("[", op, "] weight_ih and weight_hh are required");
    check_cpu_dtype(w.w_ih, x.dtype(), op, "weight_ih");
    check_cpu_dtype(w.w_hh, x.dtype(), op, "weight_hh");
    if (w.w_ih.dim() != 2 || w.w_ih.size(0) != d.G || w.w_ih.size(1) != d.I)
      fail<ValueError>("[", op, "] input of shape ", shape_str(x.shape()), " has input_size ", d.I,
                       ", but weight_ih has shape ", shape_str(w.w_ih.shape()), "; expected ",
                       shape_str({d.G, d.I}));
    if (w.w_hh.dim() != 2 || w.w_hh.size(0) != d.G || w.w_hh.size(1) != d.P)
      fail<ValueError>("[", op, "] expected weight_hh of shape ", shape_str({d.G, d.P}), ", got ",
                       shape_str(w.w_hh.shape()));
    if (w.w_hr.defined() != proj)
      fail<ValueError>("[", op, "] weight_hr must be given for every direction, or for none");
    if (proj) {
      check_cpu_dtype(w.w_hr, x.dtype(), op, "weight_hr");
      if (w.w_hr.dim() != 2 || w.w_hr.size(0) != d.P || w.w_hr.size(1) != d.H)
        fail<ValueError>("[", op, "] expected weight_hr of shape ", shape_str({d.P, d.H}), " (proj_size, ",
                         "hidden_size), got ", shape_str(w.w_hr.shape()));
    }
    if (w.b_ih.defined() != w.b_hh.defined() || w.b_ih.defined() != w0.b_ih.defined())
      fail<ValueError>("[", op, "] bias_ih and bias_hh must be given together for every direction, or not at all");
    for (const Tensor* b : {&w.b_ih, &w.b_hh}) {
      if (!b->defined()) continue;
      check_cpu_dtype(*b, x.dtype(), op, "bias");
      if (b->dim() != 1 || b->size(0) != d.G)
        fail<ValueError>("[", op, "] expected biases of shape ", shape_str({d.G}), ", got ", shape_str(b->shape()));
    }
  }
  check_state(h0, d, d.P, op, "h0");
  if (h0.defined()) check_cpu_dtype(h0, x.dtype(), op, "h0");
  if (c0.defined()) {
    if (mode != RnnMode::Lstm) fail<ValueError>("[", op, "] only an LSTM has a cell state c0");
    check_state(c0, d, d.H, op, "c0");
    check_cpu_dtype(c0, x.dtype(), op, "c0");
  }
  if (lengths.defined()) {
    if (lengths.dtype() != DType::Int64 || lengths.device().type != DeviceType::CPU)
      fail<TypeError>("[", op, "] expected lengths as an int64 CPU tensor, got ", dtype_name(lengths.dtype()));
    if (lengths.dim() != 1 || lengths.size(0) != d.B)
      fail<ValueError>("[", op, "] expected one length per batch element, shape ", shape_str({d.B}), ", got ",
                       shape_str(lengths.shape()), " for input ", shape_str(x.shape()));
    const Tensor lc = lengths.contiguous();
    const int64_t* len = lc.data<int64_t>();
    for (int64_t b = 0; b < d.B; ++b)
      if (len[b] < 0 || len[b] > d.T)
        fail<ValueError>("[", op, "] lengths[", b, "] = ", len[b], " is out of range [0, ", d.T,
                         "] for input of shape ", shape_str(x.shape()));
  }
  return d;
}

// dst (rows, cols) contiguous = src (rows, cols) of a contiguous tensor, or 0.
template <class T>
void copy_or_zero(const Tensor& src, int64_t offset, T* dst, int64_t n) {
  if (src.defined())
    std::memcpy(dst, src.data<T>() + offset, static_cast<size_t>(n) * sizeof(T));
  else
    std::fill(dst, dst + n, T(0));
}

const int64_t* lengths_ptr(const Tensor& lengths) { return lengths.defined() ? lengths.data<int64_t>() : nullptr; }

// Runs f(d) for each direction; two directions of small steps run side by
// side on two threads, where the per-step GEMMs are too small to split well.
template <class F>
void for_each_direction(const Dims& d, F&& f) {
  const bool side_by_side = d.D == 2 && d.B * d.G * d.H <= (int64_t(1) << 22);
  if (side_by_side) {
    parallel_for(0, 2, 1, [&](int64_t d0, int64_t d1) {
      for (int64_t k = d0; k < d1; ++k) f(k);
    });
  } else {
    for (int64_t k = 0; k < d.D; ++k) f(k);
  }
}

// a (rows, cols) row-major → its transpose (cols, rows) row-major.
template <class T>
std::vector<T> transposed(const T* a, int64_t rows, int64_t cols) {
  std::vector<T> t(static_cast<size_t>(rows * cols));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) t[j * rows + i] = a[i * cols + j];
  return t;
}

// ---- threads: rows of the batch ---------------------------------------------------
// A step of batch 32 × 128 units (the benchmark's LSTM) is a 4 MFLOP GEMM and
// a gate kernel, ~50 µs on one core: too short for a pool hand-off and a
// join per step. But the rows of a batch never meet: row b of h_t depends
// only on row b of h_{t-1} (and of c_{t-1}, dh_t, dc_t in the backward). So
// the batch is cut into chunks of rows, each a chain of steps that any thread
// may advance one step at a time, and the pool joins once per sequence. The
// per-step GEMMs just have fewer rows; the small-GEMM kernels read W_hh once
// per 8-row tile anyway, so chunks of 8k rows cost little per flop, and every
// element of every per-step product is computed as on one thread: the
// recurrence does not depend on the threads. (The weight gradients' single
// products over all steps may have their depth split between threads by the
// GEMM, which rounds differently: 7.6e-6 apart in dW_hh at the benchmark's size.)
//
// Each thread advances its own chains in turn, then steals steps of chains
// nobody holds. A thread that loses its core (another process, or a library
// whose idle threads spin on it, as OpenMP's do for milliseconds after each
// parallel region) then stalls only the one step it holds: the others carry
// its remaining chains forward meanwhile.

constexpr int64_t kMinChunkRows = 8;  // one GEMM row tile

inline void cpu_relax() {
#if defined(__x86_64__) || defined(_M_X64)
  _mm_pause();
#endif
}

// The chains of rows (1: the caller runs the whole batch as before).
int64_t row_chunks(const Dims& d) {
  if (in_parallel_region()) return 1;  // e.g. the two directions side by side
  const int64_t threads = get_num_threads();
  if (threads < 2) return 1;
  return std::max<int64_t>(1, std::min<int64_t>(2 * threads, d.B / kMinChunkRows));
}

struct Rows {
  int64_t begin = 0, end = 0;
  int64_t size() const { return end - begin; }
};

// One chain's progress; on its own cache line.
struct alignas(64) Chain {
  std::atomic<bool> held{false};
  int64_t next = 0;  // the next step, read and written only by the holder
};

// Runs step(rows, s) for every chunk of rows and s in [0, steps), the steps
// of a chunk in order. Chunk edges are multiples of 8 rows.
template <class F>
void for_each_row_chain(const Dims& d, int64_t steps, const F& step) {
  const int64_t chunks = row_chunks(d);
  if (chunks == 1) {
    for (int64_t s = 0; s < steps; ++s) step(Rows{0, d.B}, s);
    return;
  }
  auto rows = [&](int64_t c) {
    auto edge = [&](int64_t k) { return k == chunks ? d.B : d.B * k / chunks / kMinChunkRows * kMinChunkRows; };
    return Rows{edge(c), edge(c + 1)};
  };
  std::unique_ptr<Chain[]> chains(new Chain[static_cast<size_t>(chunks)]);
  std::atomic<int64_t> finished{0};
  // A step that throws (bad_alloc in a GEMM's pack buffer) stops every
  // thread, or the others would wait forever on its chain; rethrown below.
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  const int64_t workers = std::min<int64_t>(get_num_threads(), chunks);
  // Advances chain c by one step if nobody holds it and it is not finished.
  auto try_step = [&](int64_t c) {
    Chain& ch = chains[c];
    if (ch.held.load(std::memory_order_relaxed) || ch.held.exchange(true, std::memory_order_acquire)) return false;
    const int64_t s = ch.next;
    if (s < steps) {
      try {
        step(rows(c), s);
      } catch (...) {
        if (!failed.exchange(true)) error = std::current_exception();
      }
      ch.next = s + 1;
      if (s + 1 == steps) finished.fetch_add(1, std::memory_order_relaxed);
    }
    ch.held.store(false, std::memory_order_release);
    return s < steps;
  };
  parallel_for(0, workers, 1, [&](int64_t w0, int64_t w1) {
    for (int64_t me = w0; me < w1; ++me) {
      const int64_t own = (chunks - me + workers - 1) / workers;  // chains me, me + workers, ...
      int64_t turn = 0, spins = 0;
      while (finished.load(std::memory_order_relaxed) < chunks && !failed.load(std::memory_order_relaxed)) {
        bool ran = false;
        for (int64_t k = 0; k < own && !ran; ++k) ran = try_step(me + (turn + k) % own * workers);
        for (int64_t c = 0; c < chunks && !ran; ++c)
          if (c % workers != me) ran = try_step(c);
        ++turn;
        // Every chain left is held by another thread: spin for about a step,
        // then sleep, which frees this core for the holder should it have
        // lost its own (the scheduler moves a waiting thread to an idle core).
        if (ran) {
          spins = 0;
        } else if (++spins < 400) {
          cpu_relax();
        } else {
          std::this_thread::sleep_for(std::chrono::microseconds(20));
        }
      }
    }
  });
  if (error) std::rethrow_exception(error);
}

// After the projection GEMM wrote h_new (B, P) for every row: an inactive
// row keeps h_prev and outputs 0, an active one outputs h_new.
template <class T>
void projected_rows_forward(int64_t B, int64_t P, const T* h_prev, T* h_new, T* out, int64_t out_rs,
                            const int64_t* len, int64_t t) {
  for (int64_t b = 0; b < B; ++b) {
    T* o = out + b * out_rs;
    if (len && t >= len[b]) {
      std::memcpy(h_new + b * P, h_prev + b * P, static_cast<size_t>(P) * sizeof(T));
      std::fill(o, o + P, T(0));
    } else {
      std::memcpy(o, h_new + b * P, static_cast<size_t>(P) * sizeof(T));
    }
  }
}

// The gradient of h_t (B, P) into dhp (the projection's output gradient,
// kept for dW_hr): dy + carry on active rows, which then start the carry
// to h_{t-1} afresh; 0 on inactive rows, whose carry passes through.
template <class T>
void projected_rows_backward(int64_t B, int64_t P, const T* dy, int64_t dy_rs, T* carry, T* dhp, const int64_t* len,
                             int64_t t) {
  for (int64_t b = 0; b < B; ++b) {
    T* g = dhp + b * P;
    T* c = carry + b * P;
    if (len && t >= len[b]) {
      std::fill(g, g + P, T(0));
      continue;
    }
    const T* y = dy ? dy + b * dy_rs : nullptr;
    for (int64_t j = 0; j < P; ++j) {
      g[j] = c[j] + (y ? y[j] : T(0));
      c[j] = T(0);
    }
  }
}

// ---- forward -----------------------------------------------------------------

template <class T>
void forward_direction(RnnMode mode, const Dims& d, int64_t dir, const Tensor& x, const Tensor& h0, const Tensor& c0,
                       const RnnWeights& w, const int64_t* len, RnnForwardResult& r) {
  const int64_t T_ = d.T, B = d.B, H = d.H, P = d.P, G = d.G, BH = B * H, BP = B * P;
  const bool rev = dir == 1, proj = w.w_hr.defined();
  const T* W_ih = w.w_ih.data<T>();
  const T* W_hh = w.w_hh.data<T>();
  Tensor gates = Tensor::empty({T_, B, G}, x.dtype());
  T* g = gates.data<T>();

  // The input projection of all steps: one GEMM, the biases in its epilogue
  // (LSTM and RNN add b_ih + b_hh here; GRU adds b_hh inside r·(W_hn h + b_hn)).
  std::vector<T> bias;
  if (w.b_ih.defined()) {
    bias.assign(w.b_ih.data<T>(), w.b_ih.data<T>() + G);
    if (mode != RnnMode::Gru)
      for (int64_t j = 0; j < G; ++j) bias[j] += w.b_hh.data<T>()[j];
  }
  gemm::Epilogue<T> ep;
  ep.bias = bias.empty() ? nullptr : bias.data();
  gemm::gemm<T>(T_ * B, G, d.I, T(1), x.data<T>(), d.I, 1, W_ih, 1, d.I, T(0), g, G, 1, ep);

  Tensor states = Tensor::empty({T_ + 1, B, P}, x.dtype());
  Tensor cells = mode == RnnMode::Lstm ? Tensor::empty({T_ + 1, B, H}, x.dtype()) : Tensor();
  Tensor extra = mode == RnnMode::Lstm || mode == RnnMode::Gru ? Tensor::empty({T_, B, H}, x.dtype()) : Tensor();
  T* S = states.data<T>();
  T* C = cells.defined() ? cells.data<T>() : nullptr;
  T* E = extra.defined() ? extra.data<T>() : nullptr;
  Tensor projected = proj ? Tensor::empty({T_, B, H}, x.dtype()) : Tensor();
  T* M = proj ? projected.data<T>() : nullptr;
  const int64_t first = rev ? T_ : 0;
  copy_or_zero<T>(h0, dir * BP, S + first * BP, BP);
  if (C) copy_or_zero<T>(c0, dir * BH, C + first * BH, BH);

  // W_hhᵀ (P, G) and W_hrᵀ (H, P) row-major, made once: each step's GEMM
  // then reads them in place instead of transposing panels on every step.
  const std::vector<T> w_hh_t = transposed(W_hh, G, P);
  const T* Wt = w_hh_t.data();
  const std::vector<T> w_hr_t = proj ? transposed(w.w_hr.data<T>(), P, H) : std::vector<T>();

  std::vector<T> gh(mode == RnnMode::Gru ? static_cast<size_t>(B * G) : 0);
  gemm::Epilogue<T> ep_hh;
  ep_hh.bias = w.b_hh.defined() ? w.b_hh.data<T>() : nullptr;
  T* out = r.output.data<T>() + dir * P;
  const int64_t out_rs = d.D * P;
  const bool zero_start = !h0.defined();

  // Step s of rows [r.begin, r.end): every pointer below is offset to row r.begin.
  auto step = [&](Rows r, int64_t s) {
    const int64_t n = r.size(), r0 = r.begin;
    const int64_t* len_r = len ? len + r0 : nullptr;
    T* gh_r = gh.empty() ? nullptr : gh.data() + r0 * G;
    const int64_t t = rev ? T_ - 1 - s : s;
    const int64_t prev = rev ? t + 1 : t, next = rev ? t : t + 1;
    const T* hp = S + prev * BP + r0 * P;
    T* h_new = S + next * BP + r0 * P;
    T* g_t = g + (t * B + r0) * G;
    T* out_t = out + (t * B + r0) * out_rs;
    T* c_prev = C ? C + prev * BH + r0 * H : nullptr;
    T* c_new = C ? C + next * BH + r0 * H : nullptr;
    T* e_t = E ? E + t * BH + r0 * H : nullptr;
    // h_{-1} = 0 adds nothing: the first step of a zero start skips its GEMM.
    const bool skip = zero_start && s == 0;
    switch (mode) {
      case RnnMode::Lstm:
        if (!skip) gemm::gemm<T>(n, G, P, T(1), hp, P, 1, Wt, G, 1, T(1), g_t, G, 1);
        if (!proj) {
          lstm_cell_forward<T>(n, H, g_t, hp, c_prev, h_new, c_new, e_t, out_t, out_rs, len_r, t);
        } else {
          // m = o·tanh(c) into M[t], then h = m · W_hrᵀ, then the masked rows.
          T* m_t = M + t * BH + r0 * H;
          lstm_cell_forward<T>(n, H, g_t, nullptr, c_prev, m_t, c_new, e_t, nullptr, 0, len_r, t);
          gemm::gemm<T>(n, P, H, T(1), m_t, H, 1, w_hr_t.data(), P, 1, T(0), h_new, P, 1);
          projected_rows_forward<T>(n, P, hp, h_new, out_t, out_rs, len_r, t);
        }
        break;
      case RnnMode::Gru:
        if (skip) {
          for (int64_t b = 0; b < n; ++b)
            for (int64_t j = 0; j < G; ++j) gh_r[b * G + j] = ep_hh.bias ? ep_hh.bias[j] : T(0);
        } else {
          gemm::gemm<T>(n, G, H, T(1), hp, H, 1, Wt, G, 1, T(0), gh_r, G, 1, ep_hh);
        }
        gru_cell_forward<T>(n, H, g_t, gh_r, hp, h_new, e_t, out_t, out_rs, len_r, t);
        break;
      default:
        if (!skip) gemm::gemm<T>(n, G, H, T(1), hp, H, 1, Wt, G, 1, T(1), g_t, G, 1);
        rnn_cell_forward<T>(n, H, mode == RnnMode::Relu, g_t, hp, h_new, out_t, out_rs, len_r, t);
        break;
    }
  };
  for_each_row_chain(d, T_, step);
  const int64_t last = rev ? 0 : T_;
  std::memcpy(r.h_n.data<T>() + dir * BP, S + last * BP, static_cast<size_t>(BP) * sizeof(T));
  if (C) std::memcpy(r.c_n.data<T>() + dir * BH, C + last * BH, static_cast<size_t>(BH) * sizeof(T));
  if (mode == RnnMode::Lstm || mode == RnnMode::Gru) r.saved.gates[dir] = gates;
  r.saved.states[dir] = states;
  r.saved.cells[dir] = cells;
  r.saved.extra[dir] = extra;
  r.saved.proj[dir] = projected;
}

// ---- backward ----------------------------------------------------------------

template <class T>
void backward_direction(RnnMode mode, const Dims& d, int64_t dir, const RnnSaved& sv, const RnnWeights& w,
                        const Tensor& gy, const Tensor& ghn, const Tensor& gcn, bool need_h0, bool need_weights,
                        const int64_t* len, RnnBackwardResult& r, Tensor& dgx_out) {
  const int64_t T_ = d.T, B = d.B, H = d.H, P = d.P, G = d.G, BH = B * H, BP = B * P;
  const bool rev = dir == 1, proj = w.w_hr.defined();
  const T* W_hh = w.w_hh.data<T>();
  const T* M = proj ? sv.proj[dir].data<T>() : nullptr;
  const T* gates = sv.gates[dir].defined() ? sv.gates[dir].data<T>() : nullptr;
  const T* S = sv.states[dir].data<T>();
  const T* C = sv.cells[dir].defined() ? sv.cells[dir].data<T>() : nullptr;
  const T* E = sv.extra[dir].defined() ? sv.extra[dir].data<T>() : nullptr;

  Tensor dgx = Tensor::empty({T_, B, G}, sv.x.dtype());
  Tensor dgh = mode == RnnMode::Gru ? Tensor::empty({T_, B, G}, sv.x.dtype()) : dgx;
  T* DX = dgx.data<T>();
  T* DH = dgh.data<T>();
  Tensor dh = Tensor::empty({B, P}, sv.x.dtype());
  Tensor dc = mode == RnnMode::Lstm ? Tensor::empty({B, H}, sv.x.dtype()) : Tensor();
  copy_or_zero<T>(ghn, dir * BP, dh.data<T>(), BP);
  if (dc.defined()) copy_or_zero<T>(gcn, dir * BH, dc.data<T>(), BH);
  const T* dy = gy.defined() ? gy.data<T>() + dir * P : nullptr;
  const int64_t dy_rs = d.D * P;
  // With a projection: the gradient of every h_t (T, B, P), and of m_t (B, H).
  Tensor dhp = proj ? Tensor::empty({T_, B, P}, sv.x.dtype()) : Tensor();
  std::vector<T> dm(proj ? static_cast<size_t>(BH) : 0);

  // Step s of rows [r.begin, r.end), the steps in the reverse of the order
  // the forward ran them: every pointer below is offset to row r.begin.
  auto step = [&](Rows r, int64_t s) {
    const int64_t n = r.size(), r0 = r.begin;
    const int64_t* len_r = len ? len + r0 : nullptr;
    T* dh_r = dh.data<T>() + r0 * P;
    T* dc_r = dc.defined() ? dc.data<T>() + r0 * H : nullptr;
    const int64_t t = rev ? s : T_ - 1 - s;
    const int64_t prev = rev ? t + 1 : t, next = rev ? t : t + 1;
    const T* dy_t = dy ? dy + (t * B + r0) * dy_rs : nullptr;
    const T* g_t = gates ? gates + (t * B + r0) * G : nullptr;
    const T* c_prev = C ? C + prev * BH + r0 * H : nullptr;
    const T* e_t = E ? E + t * BH + r0 * H : nullptr;
    T* dx_t = DX + (t * B + r0) * G;
    T* dgh_t = DH + (t * B + r0) * G;
    switch (mode) {
      case RnnMode::Lstm:
        if (!proj) {
          lstm_cell_backward<T>(n, H, g_t, c_prev, e_t, dy_t, dy_rs, dh_r, dc_r, dx_t, len_r, t);
        } else {
          // dm = dh_t · W_hr, then the cell's backward with dm as its h gradient.
          T* dhp_t = dhp.data<T>() + t * BP + r0 * P;
          T* dm_r = dm.data() + r0 * H;
          projected_rows_backward<T>(n, P, dy_t, dy_rs, dh_r, dhp_t, len_r, t);
          gemm::gemm<T>(n, H, P, T(1), dhp_t, P, 1, w.w_hr.data<T>(), H, 1, T(0), dm_r, H, 1);
          lstm_cell_backward<T>(n, H, g_t, c_prev, e_t, nullptr, 0, dm_r, dc_r, dx_t, len_r, t);
        }
        break;
      case RnnMode::Gru:
        gru_cell_backward<T>(n, H, g_t, e_t, S + prev * BP + r0 * P, dy_t, dy_rs, dh_r, dx_t, dgh_t, len_r, t);
        break;
      default:
        rnn_cell_backward<T>(n, H, mode == RnnMode::Relu, S + next * BP + r0 * P, dy_t, dy_rs, dh_r, dx_t,
                             len_r, t);
        break;
    }
    // dh_{t-1} += dG_t · W_hh; nobody reads it after the last step unless h0 wants it.
    if (s + 1 < T_ || need_h0) gemm::gemm<T>(n, P, G, T(1), dgh_t, G, 1, W_hh, P, 1, T(1), dh_r, P, 1);
  };
  for_each_row_chain(d, T_, step);
  if (r.grad_h0.defined()) std::memcpy(r.grad_h0.data<T>() + dir * BP, dh.data<T>(), BP * sizeof(T));
  if (r.grad_c0.defined()) std::memcpy(r.grad_c0.data<T>() + dir * BH, dc.data<T>(), BH * sizeof(T));

  if (need_weights) {
    RnnWeights& gw = r.grad_weights[dir];
    const int64_t rows = T_ * B;
    gw.w_ih = Tensor::empty({G, d.I}, sv.x.dtype());
    gw.w_hh = Tensor::empty({G, P}, sv.x.dtype());
    // dW_ih = dGxᵀ · X and dW_hh = dGhᵀ · H_prev over all T·B rows at once.
    gemm::gemm<T>(G, d.I, rows, T(1), DX, 1, G, sv.x.data<T>(), d.I, 1, T(0), gw.w_ih.data<T>(), d.I, 1);
    gemm::gemm<T>(G, P, rows, T(1), DH, 1, G, S + (rev ? BP : 0), P, 1, T(0), gw.w_hh.data<T>(), P, 1);
    if (proj) {  // dW_hr = dHᵀ · M
      gw.w_hr = Tensor::empty({P, H}, sv.x.dtype());
      gemm::gemm<T>(P, H, rows, T(1), dhp.data<T>(), 1, P, M, H, 1, T(0), gw.w_hr.data<T>(), H, 1);
    }
    if (w.b_ih.defined()) {
      gw.b_ih = Tensor::empty({G}, sv.x.dtype());
      column_sums<T>(DX, rows, G, G, gw.b_ih.data<T>());
      gw.b_hh = Tensor::empty({G}, sv.x.dtype());
      if (mode == RnnMode::Gru)
        column_sums<T>(DH, rows, G, G, gw.b_hh.data<T>());
      else
        std::memcpy(gw.b_hh.data<T>(), gw.b_ih.data<T>(), G * sizeof(T));
    }
  }
  dgx_out = dgx;
}

}  // namespace

RnnForwardResult rnn_layer_forward(RnnMode mode, const Tensor& x, const Tensor& h0, const Tensor& c0,
                                   const std::vector<RnnWeights>& weights, const Tensor& lengths) {
  const Dims d = check_forward(mode, x, h0, c0, weights, lengths);
  RnnForwardResult r;
  const DType dt = x.dtype();
  r.output = Tensor::empty({d.T, d.B, d.D * d.P}, dt);
  r.h_n = Tensor::empty({d.D, d.B, d.P}, dt);
  if (mode == RnnMode::Lstm) r.c_n = Tensor::empty({d.D, d.B, d.H}, dt);
  RnnSaved& sv = r.saved;
  sv.x = x.contiguous();
  sv.lengths = lengths.defined() ? lengths.contiguous() : Tensor();
  sv.gates.resize(d.D), sv.states.resize(d.D), sv.cells.resize(d.D), sv.extra.resize(d.D), sv.proj.resize(d.D);
  const Tensor h0c = h0.defined() ? h0.contiguous() : Tensor();
  const Tensor c0c = c0.defined() ? c0.contiguous() : Tensor();
  std::vector<RnnWeights> wc(weights.size());
  for (size_t k = 0; k < weights.size(); ++k)
    wc[k] = {weights[k].w_ih.contiguous(), weights[k].w_hh.contiguous(),
             weights[k].b_ih.defined() ? weights[k].b_ih.contiguous() : Tensor(),
             weights[k].b_hh.defined() ? weights[k].b_hh.contiguous() : Tensor(),
             weights[k].w_hr.defined() ? weights[k].w_hr.contiguous() : Tensor()};
  const int64_t* len = lengths_ptr(sv.lengths);
  dispatch_float(dt, mode_name(mode), [&](auto tag) {
    using T = decltype(tag);
    for_each_direction(d, [&](int64_t dir) { forward_direction<T>(mode, d, dir, sv.x, h0c, c0c, wc[dir], len, r); });
  });
  return r;
}

RnnBackwardResult rnn_layer_backward(RnnMode mode, const RnnSaved& saved, const std::vector<RnnWeights>& weights,
                                     const Tensor& grad_output, const Tensor& grad_h_n, const Tensor& grad_c_n,
                                     bool need_x, bool need_h0, bool need_c0, bool need_weights) {
  const char* op = mode_name(mode);
  if (!saved.x.defined() || saved.states.size() != weights.size())
    fail<ValueError>("[", op, "_backward] saved state does not match ", weights.size(), " directions");
  Dims d;
  d.T = saved.x.size(0), d.B = saved.x.size(1), d.I = saved.x.size(2), d.D = static_cast<int64_t>(weights.size());
  d.G = weights[0].w_hh.size(0), d.H = d.G / rnn_gate_count(mode), d.P = weights[0].w_hh.size(1);
  const DType dt = saved.x.dtype();
  auto check_grad = [&](const Tensor& g, const Shape& shape, const char* what) {
    if (!g.defined()) return Tensor();
    if (g.shape() != shape)
      fail<ValueError>("[", op, "_backward] expected ", what, " of shape ", shape_str(shape), ", got ",
                       shape_str(g.shape()));
    check_cpu_dtype(g, dt, op, what);
    return g.contiguous();
  };
  const Tensor gy = check_grad(grad_output, {d.T, d.B, d.D * d.P}, "grad_output");
  const Tensor ghn = check_grad(grad_h_n, {d.D, d.B, d.P}, "grad_h_n");
  const Tensor gcn = mode == RnnMode::Lstm ? check_grad(grad_c_n, {d.D, d.B, d.H}, "grad_c_n") : Tensor();
  std::vector<RnnWeights> wc(weights.size());
  for (size_t k = 0; k < weights.size(); ++k)
    wc[k] = {weights[k].w_ih.contiguous(), weights[k].w_hh.contiguous(), weights[k].b_ih, weights[k].b_hh,
             weights[k].w_hr.defined() ? weights[k].w_hr.contiguous() : Tensor()};

  RnnBackwardResult r;
  if (need_h0) r.grad_h0 = Tensor::empty({d.D, d.B, d.P}, dt);
  if (need_c0 && mode == RnnMode::Lstm) r.grad_c0 = Tensor::empty({d.D, d.B, d.H}, dt);
  if (need_weights) r.grad_weights.resize(d.D);
  const int64_t* len = lengths_ptr(saved.lengths);
  std::vector<Tensor> dgx(d.D);
  dispatch_float(dt, op, [&](auto tag) {
    using T = decltype(tag);
    for_each_direction(d, [&](int64_t dir) {
      backward_direction<T>(mode, d, dir, saved, wc[dir], gy, ghn, gcn, need_h0, need_weights, len, r, dgx[dir]);
    });
    if (need_x) {
      // dX = Σ_directions dGx · W_ih: one GEMM over all T·B rows per direction.
      r.grad_x = Tensor::empty({d.T, d.B, d.I}, dt);
      for (int64_t dir = 0; dir < d.D; ++dir)
        gemm::gemm<T>(d.T * d.B, d.I, d.G, T(1), dgx[dir].template data<T>(), d.G, 1, wc[dir].w_ih.template data<T>(),
                      d.I, 1, dir == 0 ? T(0) : T(1), r.grad_x.template data<T>(), d.I, 1);
    }
  });
  return r;
}

}  // namespace glassnet
