// Verilator's runtime reports $fatal, $stop (a failed assertion) and internal errors by printing
// and calling abort(), which would take down the whole process hosting the co-simulation. Built
// into the runtime with VL_USER_FATAL, VL_USER_STOP and VL_USER_FINISH, these versions throw
// vhw::SimError instead; Instance catches it at the C ABI and the instance reports kSimError.
#include "vhw_instance.h"

#include <string>

namespace {

std::string where(const char* filename, int linenum) {
  if (filename == nullptr || filename[0] == '\0') return "";
  return std::string(" at ") + filename + ":" + std::to_string(linenum);
}

}  // namespace

void vl_fatal(const char* filename, int linenum, const char* /*hier*/, const char* msg) {
  throw vhw::SimError(std::string(msg) + where(filename, linenum));
}

void vl_stop(const char* filename, int linenum, const char* /*hier*/) {
  // The failed assertion has already printed its own message; name where it is.
  throw vhw::SimError("$stop (a failed assertion)" + where(filename, linenum));
}

void vl_finish(const char* /*filename*/, int /*linenum*/, const char* /*hier*/) {
  // $finish ends nothing here: the caller decides when the simulation is over.
}
