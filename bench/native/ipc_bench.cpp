// The native alternatives of the data-path and notification rows, between real processes:
//   memcpy  bytes/s of memcpy at each size from 64 B to 64 MiB (one process: the copy itself);
//   eventfd one-way latency of an eventfd ping-pong between a parent and a forked child;
//   tcp     one-way latency of a 1-byte TCP ping-pong over 127.0.0.1 (TCP_NODELAY) between two processes.
// One-way latency is half of each round trip; median and p99 over the round trips.
//
//   ipc_bench ROUNDTRIPS SECONDS_PER_SIZE      prints a result file (JSON) on stdout
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) die("usage: ipc_bench ROUNDTRIPS SECONDS_PER_SIZE");
  const int roundtrips = std::atoi(argv[1]);
  const double seconds = std::atof(argv[2]);
  std::printf("{\n  \"benchmark\": \"ipc-native\",\n  \"producer\": \"C++ (g++ -O2): memcpy median of rounds; fork()ed ping-pongs, %d round trips\",\n  \"values\": {\n", roundtrips);
  for (size_t size = 64; size <= (size_t(64) << 20); size *= 4) {
    std::printf("    \"memcpy_Bps_%zu\": %.1f,\n", size, memcpy_rate(size, seconds));
  }
  const Latency e = eventfd_pingpong(roundtrips);
  const Latency t = tcp_pingpong(roundtrips);
  std::printf("    \"eventfd_median_us\": %.3f,\n    \"eventfd_p99_us\": %.3f,\n    \"tcp_median_us\": %.3f,\n    \"tcp_p99_us\": %.3f\n  },\n  \"notes\": {}\n}\n",
              e.median_us, e.p99_us, t.median_us, t.p99_us);
  return 0;
}
