// The shim's side of a top's master ports, served before every rising edge from state the
// instance owns: the memory master (mem_req_o ... mem_rdata_i) against one block of memory that C#
// owns and attaches once (and, for a top with mem_sys_o, requests so marked against a second block:
// host system memory at a bus address), and the MSI output (msi_valid_o, msi_ready_i, msi_addr_o, msi_data_o)
// into a queue per instance that C# drains.
#pragma once

#include <verilated.h>

#include <cstdint>
#include <deque>

namespace vhw {

// The memory master: a request holds until mem_ack_i, a one-cycle pulse that the shim raises in
// the cycle after it sees the request, with the read data. Bytes outside the attached block read
// 0xff and are not written; each such access is counted. A system request (mem_sys_o) is served
// the same way from the system block, whose first byte has bus address sys_bus.
struct MemoryPort {
  struct Block {
    uint8_t* base = nullptr;
    uint64_t start = 0;  // address of base[0]
    uint64_t length = 0;

    void attach(uint64_t at, uint8_t* b, uint64_t len) {
      base = len == 0 ? nullptr : b;
      length = base == nullptr ? 0 : len;
      start = at;
    }

    uint8_t* find(uint64_t addr) const {
      return base != nullptr && addr >= start && addr - start < length ? base + (addr - start) : nullptr;
    }
  };
  Block device;  // backing memory, from address 0
  Block system;  // host system memory, from a bus address
  uint64_t outside = 0;
  bool acked = false;  // ack was high for the last edge; it drops before the next

  void attach(uint8_t* b, uint64_t len) { device.attach(0, b, len); }
  void attach_system(uint64_t bus, uint8_t* b, uint64_t len) { system.attach(bus, b, len); }

  bool serve(CData req, CData we, QData addr, CData be, IData wdata, CData& ack, IData& rdata) {
    return serve(req, 0, we, addr, be, wdata, ack, rdata);
  }

  // Returns whether an input changed (the instance must evaluate again).
  bool serve(CData req, CData sys, CData we, QData addr, CData be, IData wdata, CData& ack, IData& rdata) {
    if (acked) {
      acked = false;
      ack = 0;
      return true;
    }
    if (!req) return false;
    const Block& block = sys ? system : device;
    bool out = false;
    uint32_t read = 0;
    for (unsigned i = 0; i < 4; ++i) {
      const uint64_t a = addr + i;
      uint8_t* byte = a >= addr ? block.find(a) : nullptr;  // a >= addr: no wrap past 2^64
      out |= byte == nullptr && (!we || (be >> i & 1u));
      if (we) {
        if (byte != nullptr && (be >> i & 1u)) *byte = static_cast<uint8_t>(wdata >> (8 * i));
      } else {
        read |= static_cast<uint32_t>(byte != nullptr ? *byte : 0xffu) << (8 * i);
      }
    }
    if (out) ++outside;
    rdata = we ? 0 : read;
    ack = 1;
    acked = true;
    return true;
  }

  void idle(CData& ack) {
    acked = false;
    ack = 0;
  }
};

// MSI messages: ready is always high, so every valid cycle delivers one message.
struct MsiQueue {
  struct Message {
    uint64_t addr;
    uint32_t data;
  };
  std::deque<Message> messages;

  void serve(CData valid, QData addr, IData data) {
    if (valid) messages.push_back({addr, data});
  }

  bool pop(uint64_t* addr, uint32_t* data) {
    if (messages.empty()) return false;
    *addr = messages.front().addr;
    *data = messages.front().data;
    messages.pop_front();
    return true;
  }
};

}  // namespace vhw
