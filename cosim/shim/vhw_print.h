// Verilator's runtime prints through VL_PRINTF; cosim.mk defines VL_PRINTF as vhw_printf so that a
// failed assertion's own line ("Assertion failed in <top>.<path>.<label>: ...") reaches the error
// the call returns, not only the process's standard output. Included into every translation unit.
#pragma once

void vhw_printf(const char* format, ...) __attribute__((format(printf, 1, 2)));
