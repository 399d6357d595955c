"""Icarus Verilog side of the co-simulation rows: prepares the RTL of a top for iverilog 11,
compiles it with axil_bench_tb.sv and times vvp on the shared transaction sequence.

    python3 run_icarus.py TOP SEQUENCE WORKDIR SECONDS      # prints a result file (JSON)

iverilog 11 (Debian) does not read three constructs of the RTL; the copies in WORKDIR differ
from hw/rtl only there, and the RTL itself is unchanged:
  1. `parameter int unsigned` / `localparam int unsigned` (a syntax error) become `int`; every such
     value here is a small non-negative number, so nothing changes.
  2. A packed struct member whose type is a typedef of the same package makes elaboration abort
     (elab_type.cc assertion); the packages are read as compilation-unit declarations instead:
     `package`/`endpackage` and `<name>_pkg::` prefixes are dropped (every name in them carries its
     block's prefix, so none clash).
  3. Concurrent assertions (`assert property`) are not supported; they sit under `ifndef SYNTHESIS`,
     so the testbench is compiled with -DSYNTHESIS. The Verilated libraries check them; Icarus does not.
The rate is taken from two runs, a short one and a long one, so that vvp's start-up and the
elaboration do not count: (N_long - N_short) / (t_long - t_short).
"""
import json
import pathlib
import re
import subprocess
import sys
import time

LENGTH = 1000  # TransactionSequence.Length
ROOT = pathlib.Path(__file__).resolve().parents[2]


def sources(top):
    rtl = ROOT / "hw" / "rtl"
    generated = rtl / "gen" / f"{top}.sv"
    if generated.exists():
        block = top.removesuffix("_reg_top")
        files = sorted((rtl / "prim").rglob("*.sv")) + [rtl / "gen" / f"{block}_reg_pkg.sv", generated]
    else:
        files = sorted(rtl.rglob("*.sv"))
    packages = [f for f in files if f.name.endswith("_pkg.sv")]
    return packages + [f for f in files if not f.name.endswith("_pkg.sv")]


def prepare(path):
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"\b(localparam|parameter)\s+int\s+unsigned\b", r"\1 int", text)
    text = re.sub(r"^\s*(end)?package\b.*$", "", text, flags=re.MULTILINE)
    text = re.sub(r"^\s*import\s+\w+_pkg::\*\s*;", "", text, flags=re.MULTILINE)
    return re.sub(r"\b\w+_pkg::", "", text)


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
    if len(argv) != 5:
        raise SystemExit("usage: run_icarus.py TOP SEQUENCE WORKDIR SECONDS")
    top, sequence, work, seconds = argv[1], pathlib.Path(argv[2]).resolve(), pathlib.Path(argv[3]), float(argv[4])
    work.mkdir(parents=True, exist_ok=True)
    prepared = []
    for f in sources(top):
        copy = work / f.name
        copy.write_text(prepare(f), encoding="utf-8")
        prepared.append(str(copy))
    vvp = work / "axil_bench.vvp"
    compiled = subprocess.run(
        ["iverilog", "-g2012", "-DSYNTHESIS", f"-DBENCH_TOP={top}", "-s", "axil_bench_tb", "-o", str(vvp),
         *prepared, str(pathlib.Path(__file__).with_name("axil_bench_tb.sv"))],
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
        "producer": f"Icarus Verilog {icarus_version()} (vvp), {count} minus {LENGTH} transactions",
        "values": {"signal_per_s": (count - LENGTH) / (t_long - t_short), "signal_cycles": cycles / count,
                   "checksum": checksum},
        "notes": {"top": top},
    }, sys.stdout, indent=2)
    print()


def icarus_version():
    out = subprocess.run(["iverilog", "-V"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"version (\S+)", out)
    return match.group(1) if match else "?"


if __name__ == "__main__":
    main(sys.argv)
