// AXI4-Lite master, one whole transaction per call: the generated shim exports
// vhw_<top>_<bus>_write/_read around these for every AXI4-Lite slave port group of a top.
//
// Each call drives the request, clocks the instance (the cycle hook runs before every rising
// edge, so hand-written logic can answer in the same cycles) until the response handshake, and
// gives up with kTimeout after `timeout` cycles instead of hanging. Handshakes are sampled after
// the hook, just before the edge, which is when the slave samples them too. Optional delays hold
// back each request channel and the response ready, so that a slave meets W before AW, AW before
// W, and back-pressure on B and R.
#pragma once

#include "vhw_instance.h"

#include <cstdint>
#include <cstdio>
#include <string>

namespace vhw {

// The model's variables of one AXI4-Lite slave port group; A is the address ports' Verilator type.
template <class A>
struct AxilPorts {
  A* awaddr;
  CData* awvalid;
  const CData* awready;
  IData* wdata;
  CData* wstrb;
  CData* wvalid;
  const CData* wready;
  const CData* bresp;
  const CData* bvalid;
  CData* bready;
  A* araddr;
  CData* arvalid;
  const CData* arready;
  const IData* rdata;
  const CData* rresp;
  const CData* rvalid;
  CData* rready;
  unsigned addr_bits;
};

// Cycles, counted from the start of the call, before AW (or AR) and W are offered; and cycles the
// response stays valid before the master takes it.
struct AxilDelays {
  uint8_t address;
  uint8_t data;
  uint8_t response;
};

namespace detail {

inline std::string hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%x", v);
  return buf;
}

template <class A>
bool addr_fits(const AxilPorts<A>& p, uint32_t addr) {
  return p.addr_bits >= 32 || (addr >> p.addr_bits) == 0;
}

// Drives a one-bit input, marking the instance for evaluation only when the level changes.
template <class Inst>
void drive(Inst& inst, CData* port, bool level) {
  if (*port == static_cast<CData>(level)) return;
  *port = level;
  inst.touch();
}

template <class Inst>
int32_t timed_out(Inst& inst, const char* stuck, uint32_t timeout) {
  return inst.fail(kTimeout, std::string(stuck) + " within " + std::to_string(timeout) + " cycles");
}

}  // namespace detail

template <class Inst, class A>
int32_t axil_write(Inst& inst, const AxilPorts<A>& p, uint32_t addr, uint32_t data, uint8_t strb,
                   AxilDelays delays, uint32_t timeout, uint8_t* resp) {
  if (!detail::addr_fits(p, addr)) {
    return inst.fail(kBadArgument, "address " + detail::hex(addr) + " does not fit the " +
                                       std::to_string(p.addr_bits) + "-bit bus");
  }
  return inst.guard([&]() -> int32_t {
    *p.awaddr = static_cast<A>(addr);
    *p.wdata = data;
    *p.wstrb = strb & 0xfu;
    inst.touch();
    bool aw_done = false;
    bool w_done = false;
    uint32_t b_seen = 0;  // cycles B has been valid
    for (uint32_t cycle = 0; cycle < timeout; ++cycle) {
      // B valid comes from the slave's state after the last edge; ready follows it after the delay.
      inst.settled();
      if (*p.bvalid) ++b_seen;
      detail::drive(inst, p.awvalid, !aw_done && cycle >= delays.address);
      detail::drive(inst, p.wvalid, !w_done && cycle >= delays.data);
      detail::drive(inst, p.bready, b_seen > delays.response);
      if (int32_t rc = inst.before_edge(); rc != kOk) return rc;
      const bool aw = *p.awvalid && *p.awready;
      const bool w = *p.wvalid && *p.wready;
      const bool b = *p.bvalid && *p.bready;
      const uint8_t bresp = *p.bresp;
      inst.edge();
      aw_done |= aw;
      w_done |= w;
      if (b) {
        detail::drive(inst, p.awvalid, false);
        detail::drive(inst, p.wvalid, false);
        detail::drive(inst, p.bready, false);
        *resp = bresp;
        return kOk;
      }
    }
    const char* stuck = !aw_done ? "address (AW) not taken" : !w_done ? "data (W) not taken" : "no write response (B)";
    detail::drive(inst, p.awvalid, false);
    detail::drive(inst, p.wvalid, false);
    detail::drive(inst, p.bready, false);
    return detail::timed_out(inst, stuck, timeout);
  });
}

template <class Inst, class A>
int32_t axil_read(Inst& inst, const AxilPorts<A>& p, uint32_t addr, AxilDelays delays, uint32_t timeout,
                  uint32_t* data, uint8_t* resp) {
  if (!detail::addr_fits(p, addr)) {
    return inst.fail(kBadArgument, "address " + detail::hex(addr) + " does not fit the " +
                                       std::to_string(p.addr_bits) + "-bit bus");
  }
  return inst.guard([&]() -> int32_t {
    *p.araddr = static_cast<A>(addr);
    inst.touch();
    bool ar_done = false;
    uint32_t r_seen = 0;  // cycles R has been valid
    for (uint32_t cycle = 0; cycle < timeout; ++cycle) {
      inst.settled();
      if (*p.rvalid) ++r_seen;
      detail::drive(inst, p.arvalid, !ar_done && cycle >= delays.address);
      detail::drive(inst, p.rready, r_seen > delays.response);
      if (int32_t rc = inst.before_edge(); rc != kOk) return rc;
      const bool ar = *p.arvalid && *p.arready;
      const bool r = *p.rvalid && *p.rready;
      const uint32_t rdata = *p.rdata;
      const uint8_t rresp = *p.rresp;
      inst.edge();
      ar_done |= ar;
      if (r) {
        detail::drive(inst, p.arvalid, false);
        detail::drive(inst, p.rready, false);
        *data = rdata;
        *resp = rresp;
        return kOk;
      }
    }
    const char* stuck = !ar_done ? "address (AR) not taken" : "no read data (R)";
    detail::drive(inst, p.arvalid, false);
    detail::drive(inst, p.rready, false);
    return detail::timed_out(inst, stuck, timeout);
  });
}

}  // namespace vhw
