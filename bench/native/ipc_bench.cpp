// The native alternatives of the data-path and notification rows, between real processes:
//   memcpy  bytes/s of memcpy at each size from 64 B to 64 MiB (one process: the copy itself);
//   ring    bytes/s of the same sizes streamed from a parent to a forked child through a shared
//           mapping, in the geometry of the ISM row's ring (1 MiB of slots, at least two; each
//           position on its own cache line; spin with sched_yield): what two processes can reach
//           on this machine with plain memcpy and no device in between;
//   eventfd one-way latency of an eventfd ping-pong between a parent and a forked child;
//   tcp     one-way latency of a 1-byte TCP ping-pong over 127.0.0.1 (TCP_NODELAY) between two processes;
//   eventfd_loaded  the eventfd ping-pong again with two CPU-bound processes (busy loops) running
//           beside both sides, as the ISM row's loaded figure is taken: how a wake-up fares on a busy machine.
// One-way latency is half of each round trip; median and p99 over the round trips.
//
//   ipc_bench ROUNDTRIPS SECONDS_PER_SIZE      prints a result file (JSON) on stdout
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "ipc_bench: %s: %s\n", message.c_str(), std::strerror(errno));
  std::exit(1);
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Latency {
  double median_us;
  double p99_us;
};

Latency summarize(std::vector<double>& one_way_us) {
  std::sort(one_way_us.begin(), one_way_us.end());
  return {one_way_us[one_way_us.size() / 2], one_way_us[std::min(one_way_us.size() - 1, one_way_us.size() * 99 / 100)]};
}

// bytes/s of memcpy of `size` bytes, buffers touched first; median of rounds.
double memcpy_rate(size_t size, double seconds) {
  std::vector<char> a(size, 1), b(size, 2);
  std::vector<double> rates;
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end || rates.size() < 3) {
    size_t copied = 0;
    const auto t0 = Clock::now();
    const size_t batch = std::max<size_t>(1, (size_t(1) << 20) / size);  // clock reads stay rare
    do {
      for (size_t i = 0; i < batch; i++) {
        std::memcpy(b.data(), a.data(), size);
        asm volatile("" : : "r"(b.data()) : "memory");  // the copy is used
      }
      copied += batch * size;
    } while (seconds_since(t0) < seconds / 10);
    rates.push_back(copied / seconds_since(t0));
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

// The two positions of the ring, each on its own cache line, at the start of the shared mapping.
struct alignas(64) Position {
  std::atomic<int64_t> value;
};

// One timed round of `count` transfers from this process to a forked child through `ring`.
double ring_round(char* shared, size_t size, size_t slots, int64_t count) {
  auto* written = reinterpret_cast<Position*>(shared);
  auto* read = written + 1;
  char* ring = shared + 4096;
  written->value.store(0);
  read->value.store(0);
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    std::vector<char> out(size);
    for (int64_t i = 0; i < count; i++) {
      while (written->value.load(std::memory_order_acquire) <= i) sched_yield();
      std::memcpy(out.data(), ring + (i % slots) * size, size);
      int64_t stamp;
      std::memcpy(&stamp, out.data(), sizeof stamp);
      if (stamp != i) _exit(2);  // a slot overwritten before it was read
      read->value.store(i + 1, std::memory_order_release);
    }
    _exit(0);
  }
  std::vector<char> in(size, 1);
  const auto t0 = Clock::now();
  for (int64_t i = 0; i < count; i++) {
    while (i - read->value.load(std::memory_order_acquire) >= static_cast<int64_t>(slots)) sched_yield();
    std::memcpy(in.data(), &i, sizeof i);
    std::memcpy(ring + (i % slots) * size, in.data(), size);
    written->value.store(i + 1, std::memory_order_release);
  }
  while (read->value.load(std::memory_order_acquire) < count) sched_yield();
  const double elapsed = seconds_since(t0);
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("ring reader failed its stamp check");
  return static_cast<double>(size) * static_cast<double>(count) / elapsed;
}

// bytes/s through the two-process ring at `size`: median of three rounds of about seconds / 3.
double ring_rate(char* shared, size_t size, double seconds) {
  const size_t slots = std::max<size_t>(2, (size_t(1) << 20) / size);
  // A first short round sizes the timed ones.
  const int64_t probe = std::max<int64_t>(8, static_cast<int64_t>((size_t(4) << 20) / size));
  const double rate = ring_round(shared, size, slots, probe);
  const int64_t count = std::max<int64_t>(8, static_cast<int64_t>(rate * seconds / 3 / size));
  std::vector<double> rates;
  for (int i = 0; i < 3; i++) rates.push_back(ring_round(shared, size, slots, count));
  std::sort(rates.begin(), rates.end());
  return rates[1];
}

Latency eventfd_pingpong(int roundtrips) {
  int ping = eventfd(0, 0), pong = eventfd(0, 0);
  if (ping < 0 || pong < 0) die("eventfd");
  pid_t child = fork();
  if (child < 0) die("fork");
  uint64_t v = 1;
  if (child == 0) {
    for (int i = 0; i < roundtrips + 100; i++) {
      if (read(ping, &v, 8) != 8 || write(pong, &v, 8) != 8) _exit(1);
    }
    _exit(0);
  }
  std::vector<double> us;
  for (int i = 0; i < roundtrips + 100; i++) {
    const auto t0 = Clock::now();
    if (write(ping, &v, 8) != 8 || read(pong, &v, 8) != 8) die("eventfd ping-pong");
    if (i >= 100) us.push_back(seconds_since(t0) * 1e6 / 2);  // the first 100 warm up
  }
  waitpid(child, nullptr, 0);
  close(ping);
  close(pong);
  return summarize(us);
}

Latency tcp_pingpong(int roundtrips) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0) die("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || listen(listener, 1) < 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) < 0) {
    die("tcp listen");
  }
  const int one = 1;
  pid_t child = fork();
  if (child < 0) die("fork");
  char byte = 'x';
  if (child == 0) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) _exit(1);
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (int i = 0; i < roundtrips + 100; i++) {
      if (read(s, &byte, 1) != 1 || write(s, &byte, 1) != 1) _exit(1);
    }
    _exit(0);
  }
  int s = accept(listener, nullptr, nullptr);
  if (s < 0) die("accept");
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::vector<double> us;
  for (int i = 0; i < roundtrips + 100; i++) {
    const auto t0 = Clock::now();
    if (write(s, &byte, 1) != 1 || read(s, &byte, 1) != 1) die("tcp ping-pong");
    if (i >= 100) us.push_back(seconds_since(t0) * 1e6 / 2);
  }
  waitpid(child, nullptr, 0);
  close(s);
  close(listener);
  return summarize(us);
}

// Two processes that only burn CPU until killed: the background of the loaded rows.
std::vector<pid_t> start_spinners() {
  std::vector<pid_t> spinners;
  for (int i = 0; i < 2; i++) {
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
      volatile uint64_t n = 0;
      for (;;) n = n + 1;
    }
    spinners.push_back(child);
  }
  return spinners;
}

void stop_spinners(const std::vector<pid_t>& spinners) {
  for (pid_t p : spinners) kill(p, SIGKILL);
  for (pid_t p : spinners) waitpid(p, nullptr, 0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) die("usage: ipc_bench ROUNDTRIPS SECONDS_PER_SIZE");
  const int roundtrips = std::atoi(argv[1]);
  const double seconds = std::atof(argv[2]);
  std::printf("{\n  \"benchmark\": \"ipc-native\",\n  \"producer\": \"C++ (g++ -O2): memcpy median of rounds; two-process ring median of 3 rounds; fork()ed ping-pongs, %d round trips\",\n  \"values\": {\n", roundtrips);
  constexpr size_t kMaxSize = size_t(64) << 20;
  for (size_t size = 64; size <= kMaxSize; size *= 4) {
    std::printf("    \"memcpy_Bps_%zu\": %.1f,\n", size, memcpy_rate(size, seconds));
  }
  const size_t shared_bytes = 4096 + 2 * kMaxSize;
  void* shared = mmap(nullptr, shared_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) die("mmap");
  std::memset(shared, 0, shared_bytes);  // pages present before timing, as the ISM region's are
  for (size_t size = 64; size <= kMaxSize; size *= 4) {
    std::printf("    \"ring_Bps_%zu\": %.1f,\n", size, ring_rate(static_cast<char*>(shared), size, seconds));
  }
  munmap(shared, shared_bytes);
  const Latency e = eventfd_pingpong(roundtrips);
  const Latency t = tcp_pingpong(roundtrips);
  const std::vector<pid_t> spinners = start_spinners();
  const Latency loaded = eventfd_pingpong(roundtrips);
  stop_spinners(spinners);
  std::printf("    \"eventfd_median_us\": %.3f,\n    \"eventfd_p99_us\": %.3f,\n    \"tcp_median_us\": %.3f,\n    \"tcp_p99_us\": %.3f,\n"
              "    \"eventfd_loaded_median_us\": %.3f,\n    \"eventfd_loaded_p99_us\": %.3f\n  },\n  \"notes\": {}\n}\n",
              e.median_us, e.p99_us, t.median_us, t.p99_us, loaded.median_us, loaded.p99_us);
  return 0;
}
