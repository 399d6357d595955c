// One Verilated model in its own VerilatedContext: clock, reset, settling, an optional FST
// waveform and a per-cycle hook. The generated shim of each top (build/cosim/<top>/<top>_shim.cpp)
// derives its opaque handle from Instance and exports thin extern "C" wrappers around it.
//
// Nothing here is global: every piece of state lives in the instance, so any number of instances,
// of one top or of many, can live in one process.
#pragma once

#include <verilated.h>
#include <verilated_fst_c.h>

#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>

#define VHW_EXPORT extern "C" __attribute__((visibility("default")))

namespace vhw {

// Results of the exported calls; CosimStatus in cosim/VirtioHw.Cosim mirrors them.
enum Status : int32_t {
  kOk = 0,
  kTimeout = -1,      // a bus handshake did not complete within the cycle budget
  kSimError = -2,     // the model stopped (assertion, $fatal, $stop); the instance is dead
  kHookStopped = -3,  // the cycle hook asked to stop
  kBadArgument = -4,  // an address wider than the bus, a wrong word count, a re-entrant call
  kTraceError = -5,   // the waveform file could not be opened
};

// What vl_fatal and vl_stop (vhw_verilated.cpp) throw out of the model's eval; caught by Instance.
struct SimError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Called before every rising edge; a non-zero result stops the running call with kHookStopped.
using Hook = int32_t (*)(void* ctx);

// Traits supplies, per top: `using Model`, `static void clock(Model&, uint8_t level)`,
// `static void reset(Model&, bool asserted)`, and for the master ports the shim serves itself
// (master_ports.h): `struct Services` (their state), `static void idle(Model&, Services&)` (their
// inputs at rest) and `static bool serve(Model&, Services&)` (one cycle of them, before the edge;
// true when an input changed).
template <class Traits>
class Instance {
 public:
  using Model = typename Traits::Model;

  explicit Instance(const char* name) : ctx_{std::make_unique<VerilatedContext>()} {
    ctx_->traceEverOn(true);  // before the model exists, or a trace could never be opened
    model_ = std::make_unique<Model>(ctx_.get(), name);
    // Half a 10 ns clock period in the model's time precision.
    half_period_ = 5;
    for (int p = ctx_->timeprecision(); p < -9; ++p) half_period_ *= 10;
    Traits::clock(*model_, 0);
    Traits::idle(*model_, services_);
    dirty_ = true;
  }

  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  ~Instance() {
    close_trace();
    // The model's scopes deregister from the calling thread's current context, not from their
    // own, so that must be this instance's context while the model is torn down (otherwise they
    // erase entries of, or lock, another instance's possibly freed context). Afterwards no thread
    // of ours may keep pointing at the context about to be freed.
    Verilated::threadContextp(ctx_.get());
    model_.reset();
    Verilated::threadContextp(nullptr);
  }

  Model& model() { return *model_; }

  typename Traits::Services& services() { return services_; }

  // The model after pending input changes have settled; after a simulation error, the last values.
  // Port access is allowed inside the cycle hook, unlike anything that advances time.
  Model& settled() {
    eval();
    return *model_;
  }

  // Marks inputs as changed, so the next read or edge evaluates first.
  void touch() { dirty_ = true; }

  uint64_t cycles() const { return cycles_; }

  int32_t eval() {
    if (dead_) return kSimError;
    return protect([&]() -> int32_t {
      settle();
      return kOk;
    });
  }

  int32_t tick(uint32_t n) {
    return guard([&]() -> int32_t {
      for (uint32_t i = 0; i < n; ++i) {
        if (int32_t rc = before_edge(); rc != kOk) return rc;
        edge();
      }
      return kOk;
    });
  }

  // Asynchronous reset: asserted, held for n rising edges, released.
  int32_t reset(uint32_t n) {
    return guard([&]() -> int32_t {
      Traits::reset(*model_, true);
      Traits::idle(*model_, services_);
      dirty_ = true;
      settle();
      for (uint32_t i = 0; i < n; ++i) edge();
      Traits::reset(*model_, false);
      dirty_ = true;
      settle();
      return kOk;
    });
  }

  // Runs f, a call that advances time and returns a Status, with this instance's context current.
  // A simulation error makes it kSimError; after one the model's state is undefined, so every
  // later call fails.
  template <class F>
  int32_t guard(F f) {
    if (dead_) return kSimError;
    if (in_hook_) return fail(kBadArgument, "time cannot advance from inside the cycle hook");
    return protect(f);
  }

  // For the bus-functional layer, inside guard: settle, run the hook, serve the master ports (after
  // the hook, so they see what the edge will sample), settle again.
  int32_t before_edge() {
    settle();
    if (hook_ != nullptr) {
      in_hook_ = true;
      const int32_t stop = hook_(hook_ctx_);
      in_hook_ = false;
      if (dead_) return kSimError;  // a port read inside the hook hit an assertion
      if (stop != 0) return fail(kHookStopped, "the cycle hook stopped the simulation");
      settle();
    }
    if (Traits::serve(*model_, services_)) {
      dirty_ = true;
      settle();
    }
    return kOk;
  }

  // One rising and one falling clock edge, each dumped to the waveform.
  void edge() {
    dump();
    Traits::clock(*model_, 1);
    model_->eval();
    ctx_->timeInc(half_period_);
    dump();
    Traits::clock(*model_, 0);
    model_->eval();
    ctx_->timeInc(half_period_);
    ++cycles_;
  }

  void set_hook(Hook hook, void* ctx) {
    hook_ = hook;
    hook_ctx_ = ctx;
  }

  int32_t open_trace(const char* path) {
    return guard([&]() -> int32_t {
      close_trace();
      auto trace = std::make_unique<VerilatedFstC>();
      model_->trace(trace.get(), 99);
      trace->open(path);
      if (!trace->isOpen()) return fail(kTraceError, std::string("cannot open waveform file ") + path);
      trace_ = std::move(trace);
      return kOk;
    });
  }

  void close_trace() {
    if (!trace_) return;
    dump();
    trace_->close();
    trace_.reset();
  }

  // Records a message for the caller; returns rc so that `return fail(...)` reads naturally.
  int32_t fail(int32_t rc, std::string message) {
    error_ = std::move(message);
    return rc;
  }

  // Copies the last error message, NUL-terminated, truncated to capacity; returns its full length.
  int32_t error(char* buf, int32_t capacity) const {
    if (buf != nullptr && capacity > 0) {
      const size_t n = std::min(error_.size(), static_cast<size_t>(capacity - 1));
      std::memcpy(buf, error_.data(), n);
      buf[n] = '\0';
    }
    return static_cast<int32_t>(error_.size());
  }

 private:
  template <class F>
  int32_t protect(F f) {
    Verilated::threadContextp(ctx_.get());
    try {
      return f();
    } catch (const SimError& e) {
      dead_ = true;
      error_ = e.what();
    } catch (const std::exception& e) {
      dead_ = true;
      error_ = std::string("internal error: ") + e.what();
    }
    return kSimError;
  }

  void settle() {
    if (!dirty_) return;
    model_->eval();
    dirty_ = false;
  }

  void dump() {
    if (trace_) trace_->dump(ctx_->time());
  }

  // Declaration order is destruction order in reverse: the trace goes before the model, the
  // model before its context.
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<VerilatedFstC> trace_;
  typename Traits::Services services_;
  uint64_t half_period_ = 0;
  uint64_t cycles_ = 0;
  Hook hook_ = nullptr;
  void* hook_ctx_ = nullptr;
  std::string error_;
  bool dirty_ = false;
  bool in_hook_ = false;
  bool dead_ = false;
};

// new without exceptions crossing the C ABI: null when the instance cannot be made.
template <class Handle>
Handle* create(const char* name) {
  try {
    return new Handle(name);
  } catch (...) {
    return nullptr;
  }
}

}  // namespace vhw
