"""Timing, result rows and the machine description shared by every benchmark.

The machines these run on are shared and noisy, so nothing here reports a single absolute
time as the result: the sides of a comparison are timed interleaved in one process
(A B, B A, A B, ...), each repeat after a warm-up, and the result is the ratio of the
medians.  The garbage collector is in the same state for both sides: a full collection
before each timed run (so one side's garbage is never collected on the other side's clock)
and then the interpreter's default settings while timing, because that is what users get.
"""

from __future__ import annotations

import gc
import importlib
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: glibc's malloc settings that ``python -m benchmarks`` fixes for its worker interpreters
#: (see ``benchmarks/__main__.py``): 256 MB, so that freed memory stays in the process.
MALLOC_VARIABLES = {"MALLOC_TRIM_THRESHOLD_": "268435456", "MALLOC_MMAP_THRESHOLD_": "268435456"}


class Mismatch(AssertionError):
    """minigrad and a reference computed different results: the timing would be meaningless."""


#: The clocks a run can use.  "cpu" (the default) is the CPU time of this process: on a
#: shared machine it leaves out the time the process spent waiting for a core, which is
#: noise, and with every side on one thread it equals the wall time of an idle machine.
CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


@dataclass(frozen=True)
class Config:
    """How hard to work.

    ``smoke`` shrinks every problem to a size that runs in well under a second, for the test
    suite; ``repeats`` is the number of timed repeats per side (after ``warmup`` untimed
    runs); ``gc_off`` adds measurements with the garbage collector disabled; ``clock`` is a
    key of ``CLOCKS``.
    """

    smoke: bool = False
    repeats: int = 7
    warmup: int = 1
    gc_off: bool = True
    clock: str = "cpu"

    @staticmethod
    def smoke_mode() -> Config:
        return Config(smoke=True, repeats=1, warmup=0, gc_off=False)


@dataclass
class Row:
    """One line of the report.

    ``value`` is the figure the target is about (usually a ratio minigrad / reference, where
    below 1 means minigrad is faster); ``met`` is None when there is no target, or when the
    reference was absent; ``checks`` holds the correctness figures the benchmark asserted
    (for the tests); ``detail`` carries the absolute medians for the curious reader.
    """

    benchmark: str
    measure: str
    value: float | None
    target: str = ""
    met: bool | None = None
    detail: str = ""
    checks: dict = field(default_factory=dict)
    unit: str = "x"


def optional(module: str) -> Any:
    """The module, or None if it is not installed (optional references are skipped)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def check_close(what: str, ours: float, theirs: float, rel: float, abs_: float = 0.0) -> None:
    """Raise Mismatch unless ``ours`` and ``theirs`` agree to ``rel`` (relative tolerance)."""
    if not math.isclose(float(ours), float(theirs), rel_tol=rel, abs_tol=abs_):
        raise Mismatch(f"{what}: minigrad gives {ours!r}, the reference gives {theirs!r}")


def time_once(
    run: Callable[[], Any], number: int, gc_enabled: bool, clock: Callable[[], float]
) -> float:
    """Seconds per call of ``run`` over ``number`` calls, after a full collection."""
    gc.collect()
    was_enabled = gc.isenabled()
    if not gc_enabled:
        gc.disable()
    try:
        start = clock()
        for _ in range(number):
            run()
        elapsed = clock() - start
    finally:
        if was_enabled:
            gc.enable()
    return elapsed / number


class Timings(dict):
    """Median seconds per call of each side (the dict itself), with the samples behind them."""

    def __init__(self, samples: dict[str, list[float]]):
        super().__init__({name: statistics.median(ts) for name, ts in samples.items()})
        self.samples = samples

    def ratio(self, a: str, b: str) -> float:
        """The median over repeats of (a's time / b's time in the same repeat).

        The two sides of a repeat run back to back, so a change in the machine's load
        between repeats cancels within each pair.
        """
        return statistics.median(x / y for x, y in zip(self.samples[a], self.samples[b]))

    def outside(self, whole: str, part: str) -> float:
        """The median over repeats of (whole - part): what ``whole`` spends besides a part
        of it timed on its own in the same repeat (the matrix products of a step, say)."""
        return statistics.median(x - y for x, y in zip(self.samples[whole], self.samples[part]))

    def ratio_outside(self, a: str, a_part: str, b: str, b_part: str) -> float:
        """``outside(a, a_part) / outside(b, b_part)``: how a and b compare in what each does
        besides its part.  A ratio of medians: a difference of two times is small and noisy,
        and the per-repeat ratio of two of them is too heavy-tailed to take its median."""
        return self.outside(a, a_part) / self.outside(b, b_part)


def compare(
    sides: dict[str, Callable[[], Any]],
    config: Config,
    number: int = 1,
    gc_enabled: bool = True,
    repeats: int | None = None,
) -> Timings:
    """Seconds per call of each side (medians, see Timings), the sides timed interleaved.

    The order alternates between repeats so that neither side always runs right after
    the other's garbage or cache footprint.
    """
    repeats = config.repeats if repeats is None else repeats
    clock = CLOCKS[config.clock]
    names = list(sides)
    for name in names:
        for _ in range(config.warmup):
            sides[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names if r % 2 == 0 else reversed(names):
            times[name].append(time_once(sides[name], number, gc_enabled, clock))
    return Timings(times)


def show_time(seconds: float) -> str:
    """A duration with a sensible unit: 12.3 ms, 45.6 us."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    if seconds >= 1e-6:
        return f"{seconds * 1e6:.3g} us"
    return f"{seconds * 1e9:.3g} ns"


def machine_description() -> list[str]:
    """CPU model, cores, operating system and the versions that matter, one fact a line."""
    cpu = platform.processor() or "unknown"
    vector = ""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    wide = [f for f in ("avx2", "avx512f", "fma") if f in flags]
                    vector = f" ({', '.join(wide)})" if wide else ""
                    break
    except OSError:
        pass
    lines = [
        f"CPU: {cpu}{vector}; {os.cpu_count()} logical cores visible",
        f"OS: {platform.system()} {platform.release()} ({platform.machine()})",
        f"Python {sys.version.split()[0]} ({platform.python_implementation()})",
    ]
    for name in ("numpy", "torch", "micrograd"):
        module = optional(name)
        version = getattr(module, "__version__", None) if module else None
        if module is not None and version is None:
            version = _distribution_version(name)
        lines.append(f"{name} {version}" if module is not None else f"{name}: not installed")
        if name == "numpy" and module is not None:
            lines[-1] += f" (BLAS: {_numpy_blas(module)})"
        if name == "torch" and module is not None:
            lines[-1] += f" (BLAS: {'MKL' if module.backends.mkl.is_available() else 'other'})"
    threads = {
        var: os.environ.get(var, "unset")
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    }
    lines.append("threads: " + ", ".join(f"{k}={v}" for k, v in threads.items()))
    allocator = {var: os.environ.get(var, "unset") for var in MALLOC_VARIABLES}
    lines.append("glibc allocator: " + ", ".join(f"{k}={v}" for k, v in allocator.items()))
    lines.append(f"garbage collector thresholds: {gc.get_threshold()}")
    if hasattr(os, "getloadavg"):
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        lines.append(f"load average when the report was written (1, 5, 15 min): {load}")
    return lines


def _numpy_blas(numpy: Any) -> str:
    try:
        blas = numpy.__config__.CONFIG["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas['version']}"
    except (AttributeError, KeyError, TypeError):
        return "unknown"


def _distribution_version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"
