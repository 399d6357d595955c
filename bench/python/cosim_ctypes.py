"""The signal-level co-simulation row from Python: the shared transaction sequence on a Verilated
top's library through ctypes, cocotb-style -- drive the AXI4-Lite inputs, tick, sample the outputs,
one port per call -- the fastest a Python testbench over this library can be (no scheduler, no
coroutines). The steps are those of SignalDriver in bench/VirtioHw.Benchmarks/Cosim.

    python3 cosim_ctypes.py LIBRARY TOP PORT ADDRESS_BITS SEQUENCE SECONDS   # prints a result file (JSON)

PORT is the prefix of the AXI4-Lite slave's ports (bar0 for bar0_awaddr_i, ...); ADDRESS_BITS the
width of its address ports, which sets the ctypes type of their setters.
"""
import ctypes
import json
import statistics
import sys
import time

TIMEOUT = 100  # cycles a handshake may take


class Pins:
    """The per-port exports of one top with argument and result types set, so each is one ctypes call."""

    def __init__(self, library, top, port, address_bits):
        lib = ctypes.CDLL(library)
        prefix = f"vhw_{top}_"

        def fn(name, result, *arguments):
            f = getattr(lib, prefix + name)
            f.restype = result
            f.argtypes = [ctypes.c_void_p, *arguments]
            return f

        new = getattr(lib, prefix + "new")
        new.restype = ctypes.c_void_p
        new.argtypes = []
        self.free = fn("free", None)
        self.handle = new()
        if not self.handle:
            raise SystemExit("cosim_ctypes: the instance could not be created")
        u8, u32 = ctypes.c_uint8, ctypes.c_uint32
        addr = ctypes.c_uint8 if address_bits <= 8 else ctypes.c_uint16 if address_bits <= 16 else ctypes.c_uint32
        self.cycles = fn("cycles", ctypes.c_uint64)
        self.tick = fn("tick", ctypes.c_int32, u32)
        self.set_awaddr = fn(f"set_{port}_awaddr_i", None, addr)
        self.set_awvalid = fn(f"set_{port}_awvalid_i", None, u8)
        self.get_awready = fn(f"get_{port}_awready_o", u8)
        self.set_wdata = fn(f"set_{port}_wdata_i", None, u32)
        self.set_wstrb = fn(f"set_{port}_wstrb_i", None, u8)
        self.set_wvalid = fn(f"set_{port}_wvalid_i", None, u8)
        self.get_wready = fn(f"get_{port}_wready_o", u8)
        self.get_bvalid = fn(f"get_{port}_bvalid_o", u8)
        self.get_bresp = fn(f"get_{port}_bresp_o", u8)
        self.set_bready = fn(f"set_{port}_bready_i", None, u8)
        self.set_araddr = fn(f"set_{port}_araddr_i", None, addr)
        self.set_arvalid = fn(f"set_{port}_arvalid_i", None, u8)
        self.get_arready = fn(f"get_{port}_arready_o", u8)
        self.get_rvalid = fn(f"get_{port}_rvalid_o", u8)
        self.get_rdata = fn(f"get_{port}_rdata_o", u32)
        self.get_rresp = fn(f"get_{port}_rresp_o", u8)
        self.set_rready = fn(f"set_{port}_rready_i", None, u8)


def write(p, h, address, data):
    p.set_awaddr(h, address)
    p.set_wdata(h, data)
    p.set_wstrb(h, 0xF)
    p.set_awvalid(h, 1)
    p.set_wvalid(h, 1)
    p.set_bready(h, 1)
    aw = w = False
    cycles = 0
    while not (aw and w):
        aw_taken = not aw and p.get_awready(h)
        w_taken = not w and p.get_wready(h)
        p.tick(h, 1)
        cycles += 1
        if aw_taken:
            aw = True
            p.set_awvalid(h, 0)
        if w_taken:
            w = True
            p.set_wvalid(h, 0)
        if cycles > TIMEOUT:
            raise SystemExit("cosim_ctypes: write address/data not taken")
    while not p.get_bvalid(h):
        p.tick(h, 1)
        cycles += 1
        if cycles > TIMEOUT:
            raise SystemExit("cosim_ctypes: no write response")
    response = p.get_bresp(h)
    p.tick(h, 1)
    p.set_bready(h, 0)
    if response:
        raise SystemExit(f"cosim_ctypes: write of {address:#x}: response {response}")


def read(p, h, address):
    p.set_araddr(h, address)
    p.set_arvalid(h, 1)
    p.set_rready(h, 1)
    cycles = 0
    while True:
        taken = p.get_arready(h)
        p.tick(h, 1)
        cycles += 1
        if taken:
            break
        if cycles > TIMEOUT:
            raise SystemExit("cosim_ctypes: read address not taken")
    p.set_arvalid(h, 0)
    while not p.get_rvalid(h):
        p.tick(h, 1)
        cycles += 1
        if cycles > TIMEOUT:
            raise SystemExit("cosim_ctypes: no read response")
    data = p.get_rdata(h)
    response = p.get_rresp(h)
    p.tick(h, 1)
    p.set_rready(h, 0)
    if response:
        raise SystemExit(f"cosim_ctypes: read of {address:#x}: response {response}")
    return data


def run(p, sequence):
    h = p.handle
    total = 0
    for is_write, address, data in sequence:
        if is_write:
            write(p, h, address, data)
        else:
            total = (total + read(p, h, address)) & 0xFFFFFFFF
    return total


def main(argv):
    if len(argv) != 7:
        raise SystemExit("usage: cosim_ctypes.py LIBRARY TOP PORT ADDRESS_BITS SEQUENCE SECONDS")
    library, top, port, address_bits, path, seconds = argv[1], argv[2], argv[3], int(argv[4]), argv[5], float(argv[6])
    sequence = []
    with open(path, encoding="ascii") as f:
        for line in f:
            if line.strip():
                v = int(line, 16)
                sequence.append((v >> 56 != 0, (v >> 32) & 0xFFFFFF, v & 0xFFFFFFFF))
    p = Pins(library, top, port, address_bits)
    start = p.cycles(p.handle)
    checksum = run(p, sequence)
    cycles = (p.cycles(p.handle) - start) / len(sequence)

    # Passes until SECONDS have gone by, in rounds of at least a tenth of it; the median round is kept.
    rates = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or len(rates) < 3:
        t0 = time.perf_counter()
        done = 0
        while time.perf_counter() - t0 < seconds / 10:
            if run(p, sequence) != checksum:
                raise SystemExit("cosim_ctypes: reads changed between passes")
            done += len(sequence)
        rates.append(done / (time.perf_counter() - t0))
    p.free(p.handle)
    json.dump({
        "benchmark": "cosim-python",
        "producer": f"Python {sys.version.split()[0]} ctypes, median of {len(rates)} rounds",
        "values": {"signal_per_s": statistics.median(rates), "signal_cycles": cycles, "checksum": checksum},
        "notes": {"top": top, "port": port},
    }, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main(sys.argv)
