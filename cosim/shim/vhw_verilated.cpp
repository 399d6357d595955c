// Verilator's runtime reports $fatal, $stop (a failed assertion) and internal errors by printing
// and calling abort(), which would take down the whole process hosting the co-simulation. Built
// into the runtime with VL_USER_FATAL, VL_USER_STOP and VL_USER_FINISH, these versions throw
// vhw::SimError instead; Instance catches it at the C ABI and the instance reports kSimError.
// VL_PRINTF is vhw_printf (vhw_print.h): what the runtime prints still goes to standard output,
// and the last error line it printed on this thread names the failed assertion in the SimError.
#include "vhw_instance.h"

#include <cstdarg>
#include <cstdio>
#include <string>

namespace {

// The last "%Error" line printed on this thread: a failed assertion prints it just before $stop.
thread_local std::string last_error;

std::string where(const char* filename, int linenum) {
  if (filename == nullptr || filename[0] == '\0') return "";
  return std::string(" at ") + filename + ":" + std::to_string(linenum);
}

// "[0] %Error: axil_adapter_reg.sv:150: Assertion failed in top.u_adapter.axil_b_held: 'assert'
// failed." -> "assertion axil_b_held failed in top.u_adapter"; another line is kept as it is.
std::string describe(const std::string& line) {
  static const std::string kMarker = "Assertion failed in ";
  const size_t at = line.find(kMarker);
  if (at == std::string::npos) return line;
  const size_t start = at + kMarker.size();
  const size_t end = line.find(':', start);
  const std::string path = line.substr(start, end == std::string::npos ? std::string::npos : end - start);
  const size_t dot = path.rfind('.');
  if (dot == std::string::npos) return "assertion " + path + " failed";
  return "assertion " + path.substr(dot + 1) + " failed in " + path.substr(0, dot);
}

}  // namespace

void vhw_printf(const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  va_list copy;
  va_copy(copy, ap);
  const int n = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  std::string text(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(text.data(), text.size() + 1, format, ap);
  va_end(ap);
  std::fputs(text.c_str(), stdout);
  if (text.find("%Error") != std::string::npos) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    last_error = text;
  }
}

void vl_fatal(const char* filename, int linenum, const char* /*hier*/, const char* msg) {
  last_error.clear();
  throw vhw::SimError(std::string(msg) + where(filename, linenum));
}

void vl_stop(const char* filename, int linenum, const char* /*hier*/) {
  // A failed assertion has just printed its line; name the assertion from it.
  std::string what = last_error.empty() ? "$stop (a failed assertion)" : describe(last_error);
  last_error.clear();
  throw vhw::SimError(what + where(filename, linenum));
}

void vl_finish(const char* /*filename*/, int /*linenum*/, const char* /*hier*/) {
  // $finish ends nothing here: the caller decides when the simulation is over.
}
