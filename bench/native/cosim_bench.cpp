// The native side of the co-simulation rows: the shared transaction sequence on a Verilated top's
// library (build/cosim/<top>/libvhw_<top>.so), one C ABI call per access on the AXI4-Lite slave PORT
// (the prefix of its ports, bar0 say), exactly as the C# binding calls it. Prints one result file
// (bench/VirtioHw.Benchmarks ResultFile JSON) on stdout.
//
//   cosim_bench LIBRARY TOP PORT SEQUENCE SECONDS
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

struct Transaction {
  bool write;
  uint32_t address;
  uint32_t data;
};

using NewFn = void* (*)();
using FreeFn = void (*)(void*);
using CyclesFn = uint64_t (*)(void*);
using WriteFn = int32_t (*)(void*, uint32_t, uint32_t, uint8_t, uint8_t, uint8_t, uint8_t, uint32_t, uint8_t*);
using ReadFn = int32_t (*)(void*, uint32_t, uint8_t, uint8_t, uint32_t, uint32_t*, uint8_t*);

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "cosim_bench: %s\n", message.c_str());
  std::exit(1);
}

template <class F>
F symbol(void* library, const std::string& name) {
  void* p = dlsym(library, name.c_str());
  if (p == nullptr) die("no symbol " + name);
  return reinterpret_cast<F>(p);
}

std::vector<Transaction> read_sequence(const char* path) {
  std::ifstream in(path);
  if (!in) die(std::string(path) + ": cannot open the transaction sequence");
  std::vector<Transaction> sequence;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    uint64_t v = std::stoull(line, nullptr, 16);
    sequence.push_back({(v >> 56) != 0, static_cast<uint32_t>((v >> 32) & 0xffffff), static_cast<uint32_t>(v)});
  }
  return sequence;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) die("usage: cosim_bench LIBRARY TOP PORT SEQUENCE SECONDS");
  void* library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) die(std::string("cannot load ") + argv[1] + ": " + dlerror() + " (run 'make cosim')");
  const std::string top = std::string("vhw_") + argv[2] + "_";
  auto create = symbol<NewFn>(library, top + "new");
  auto destroy = symbol<FreeFn>(library, top + "free");
  auto cycles = symbol<CyclesFn>(library, top + "cycles");
  const std::string port = argv[3];
  auto axi_write = symbol<WriteFn>(library, top + port + "_write");
  auto axi_read = symbol<ReadFn>(library, top + port + "_read");
  const std::vector<Transaction> sequence = read_sequence(argv[4]);
  const double seconds = std::atof(argv[5]);

  void* h = create();
  if (h == nullptr) die("the instance could not be created");
  const uint32_t timeout = 1000;  // CosimTop.TimeoutCycles
  auto pass = [&]() {
    uint32_t sum = 0;
    for (const Transaction& t : sequence) {
      uint8_t resp = 0;
      int32_t rc;
      if (t.write) {
        rc = axi_write(h, t.address, t.data, 0xf, 0, 0, 0, timeout, &resp);
      } else {
        uint32_t data = 0;
        rc = axi_read(h, t.address, 0, 0, timeout, &data, &resp);
        sum += data;
      }
      if (rc != 0 || resp != 0) die("access to 0x" + std::to_string(t.address) + " failed");
    }
    return sum;
  };

  const uint64_t start_cycles = cycles(h);
  const uint32_t checksum = pass();
  const double cycles_per_transaction = double(cycles(h) - start_cycles) / sequence.size();

  // Passes until SECONDS have gone by, in rounds of a tenth of it; the median round's rate is kept.
  using Clock = std::chrono::steady_clock;
  std::vector<double> rates;
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end || rates.size() < 3) {
    const auto round_end = Clock::now() + std::chrono::duration<double>(seconds / 10);
    size_t done = 0;
    const auto t0 = Clock::now();
    while (Clock::now() < round_end) {
      if (pass() != checksum) die("reads changed between passes");
      done += sequence.size();
    }
    rates.push_back(done / std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(rates.begin(), rates.end());
  destroy(h);

  std::printf(
      "{\n  \"benchmark\": \"cosim-native\",\n  \"producer\": \"C++ (g++ -O2), dlopen of the library, median of %zu rounds\",\n"
      "  \"values\": {\n    \"transaction_per_s\": %.1f,\n    \"transaction_cycles\": %.3f,\n    \"checksum\": %u\n  },\n"
      "  \"notes\": {\n    \"top\": \"%s\",\n    \"port\": \"%s\"\n  }\n}\n",
      rates.size(), rates[rates.size() / 2], cycles_per_transaction, checksum, argv[2], argv[3]);
  return 0;
}
