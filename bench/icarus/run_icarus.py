"""Icarus Verilog side of the co-simulation rows: turns ism_endpoint_top into plain Verilog that
iverilog 11 reads, compiles it with endpoint_bench_tb.sv and times vvp on the shared transaction
sequence.

    python3 run_icarus.py SEQUENCE WORKDIR SECONDS      # prints a result file (JSON)

iverilog 11 (Debian) cannot elaborate the endpoint's SystemVerilog (packages with packed structs of
package typedefs, `parameter int unsigned`, and more). Yosys reads it instead (`read_verilog -sv`,
the sources `make synth` reads) and writes the flattened design back as Verilog after `proc`
(`hierarchy -top`, `proc`, `flatten`, `memory`, `write_verilog`): a behavioural netlist -- processes
turned into multiplexers and flip-flop cells, memories (the RAM tables) mapped to flip-flops, since
Yosys 0.23's Verilog writer cannot write a read port with an enable; no technology mapping, not
gate-level -- of the same logic, which is what Icarus simulates here. Assertions under
`ifndef SYNTHESIS` are not in it (yosys defines SYNTHESIS); the Verilated libraries check them.
The netlist is kept in WORKDIR and remade when a source under hw/rtl changes.
The rate is taken from two runs, a short one and a long one, so that vvp's start-up and the
elaboration do not count: (N_long - N_short) / (t_long - t_short).
"""
import hashlib
import json
import pathlib
import re
import subprocess
import sys
import time

TOP = "ism_endpoint_top"
LENGTH = 1000  # TransactionSequence.Length
ROOT = pathlib.Path(__file__).resolve().parents[2]


def sources():
    """Every source under hw/rtl, packages first (the order tools/synth.sh gives yosys)."""
    files = sorted((ROOT / "hw" / "rtl").rglob("*.sv"))
    return [f for f in files if f.name.endswith("_pkg.sv")] + [f for f in files if not f.name.endswith("_pkg.sv")]


def netlist(work):
    files = sources()
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()[:16]
    out = work / f"{TOP}-{digest}.v"
    if out.exists():
        return out
    for old in work.glob(f"{TOP}-*.v"):
        old.unlink()
    script = (f"read_verilog -sv {' '.join(str(f) for f in files)}; hierarchy -check -top {TOP}; "
              f"proc; flatten; memory; setundef -zero; opt_clean; write_verilog -noattr {out}.tmp")
    done = subprocess.run(["yosys", "-q", "-l", str(work / "yosys.log"), "-p", script],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"run_icarus: yosys failed, see {work / 'yosys.log'}")
    pathlib.Path(f"{out}.tmp").rename(out)
    return out


def run(vvp, sequence, count):
    start = time.perf_counter()
    out = subprocess.run(["vvp", "-n", str(vvp), f"+SEQ={sequence}", f"+N={count}"],
                         capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    match = re.search(r"checksum (\d+) cycles (\d+)", out.stdout)
    if out.returncode != 0 or match is None:
        raise SystemExit(f"run_icarus: vvp failed: {(out.stderr or out.stdout).strip().splitlines()[-1:]}")
    return elapsed, int(match.group(1)), int(match.group(2))


def main(argv):
    if len(argv) != 4:
        raise SystemExit("usage: run_icarus.py SEQUENCE WORKDIR SECONDS")
    sequence, work, seconds = pathlib.Path(argv[1]).resolve(), pathlib.Path(argv[2]), float(argv[3])
    work.mkdir(parents=True, exist_ok=True)
    design = netlist(work)
    vvp = work / "endpoint_bench.vvp"
    compiled = subprocess.run(
        ["iverilog", "-g2012", "-s", "endpoint_bench_tb", "-o", str(vvp),
         str(design), str(pathlib.Path(__file__).with_name("endpoint_bench_tb.sv"))],
        capture_output=True, text=True, check=False)
    if compiled.returncode != 0:
        errors = [l for l in compiled.stderr.splitlines() if "warning" not in l]
        raise SystemExit(f"run_icarus: iverilog failed: {errors[:3]}")

    # The short run gives the checksum and a first rate; the long run adds about SECONDS of transactions.
    t_short, checksum, _ = run(vvp, sequence, LENGTH)
    extra = max(LENGTH, int(seconds * LENGTH / max(t_short, 1e-3)) // LENGTH * LENGTH)
    count = LENGTH + extra
    t_long, again, cycles = run(vvp, sequence, count)
    if again != checksum:
        raise SystemExit("run_icarus: the checksum changed between runs")
    json.dump({
        "benchmark": "cosim-icarus",
        "producer": f"Icarus Verilog {icarus_version()} (vvp) on a yosys {yosys_version()} behavioural netlist"
                    f" (proc + flatten, not gate-level), {count} minus {LENGTH} transactions",
        "values": {"signal_per_s": (count - LENGTH) / (t_long - t_short), "signal_cycles": cycles / count,
                   "checksum": checksum},
        "notes": {"top": TOP, "port": "bar0"},
    }, sys.stdout, indent=2)
    print()


def icarus_version():
    out = subprocess.run(["iverilog", "-V"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"version (\S+)", out)
    return match.group(1) if match else "?"


def yosys_version():
    out = subprocess.run(["yosys", "-V"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"Yosys (\S+)", out)
    return match.group(1) if match else "?"


if __name__ == "__main__":
    main(sys.argv)
