"""``python -m benchmarks``: run the suite, print the table, write docs/performance.md.

The BLAS thread count must be fixed before numpy is first imported, so this module parses
its arguments and sets OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS (to 1
unless ``--threads`` says otherwise, and unless they are already set) before importing
anything else.  Each benchmark then runs in a fresh interpreter of its own, so that one
benchmark's heap (a million-node graph, PyTorch's modules) never changes what the garbage
collector costs in the next one.

Those interpreters also get glibc's MALLOC_TRIM_THRESHOLD_ and MALLOC_MMAP_THRESHOLD_ (unless
already set; glibc reads them at start-up, so ``--in-process`` runs without them): with the
defaults, whether a step's freed 800 KB arrays go back to the system, and come back one page
fault at a time, depends on what the process allocated before (importing PyTorch changes
it), which made the tensor MLP's times jump between 1.4 and 2.1 ms per step from one run to
the next, for every side.  Fixed thresholds keep the memory in the process, for every side.
"""

from __future__ import annotations

import argparse
import os
import sys

from benchmarks import BENCHMARKS


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time minigrad against micrograd, numpy and PyTorch; write the report.",
    )
    parser.add_argument(
        "--only",
        default=",".join(BENCHMARKS),
        help=f"comma-separated benchmarks to run (default: all of {', '.join(BENCHMARKS)})",
    )
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats per side (7)")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes, one repeat: checks that it all runs"
    )
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads (1)")
    parser.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="cpu: this process's CPU time, robust on a shared machine (default); wall: elapsed",
    )
    parser.add_argument(
        "--output",
        default=None,
        help="the Markdown report to update (default docs/performance.md; not in --smoke)",
    )
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run every benchmark in this interpreter instead of one fresh one each",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # internal: run one, print JSON
    args = parser.parse_args(argv)
    args.names = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {BENCHMARKS}")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, str(args.threads))
    from benchmarks.harness import MALLOC_VARIABLES

    for variable, value in MALLOC_VARIABLES.items():
        os.environ.setdefault(variable, value)

    from benchmarks import report  # imports numpy: only now

    if args.worker:
        report.print_worker_rows(args.worker, report.config_of(args))
        return 0
    rows = report.run_all(args.names, report.config_of(args), in_process=args.in_process)
    table = report.table(rows)
    print(table)
    if not args.no_write and not args.smoke:
        path = report.write(rows, args.output, ["python", "-m", "benchmarks", *argv], args.clock)
        print(f"\nwritten to {path}")
    return 1 if any(row.measure == "FAILED" for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
