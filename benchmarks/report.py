"""Running the benchmarks, the table of ratios, and docs/performance.md.

The report file is partly generated: everything between the two marker lines below is
replaced on every run (the table, the machine, the command); the prose around it, which
explains the numbers, is written by hand and kept.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import Config, Row, machine_description, show_time

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "docs" / "performance.md"
BEGIN = "<!-- begin generated results: `python -m benchmarks` rewrites this block -->"
END = "<!-- end generated results -->"
_JSON_MARK = "BENCHMARK-ROWS "


def config_of(args: Any) -> Config:
    if args.smoke:
        return Config.smoke_mode()
    return Config(repeats=args.repeats, clock=args.clock)


def run_one(name: str, config: Config) -> list[Row]:
    """Run one benchmark module in this interpreter."""
    module = importlib.import_module(f"benchmarks.{name}")
    return module.run(config)


def print_worker_rows(name: str, config: Config) -> None:
    """The worker side of ``run_all``: run one benchmark, print its rows as one JSON line."""
    rows = [dataclasses.asdict(row) for row in run_one(name, config)]
    print(_JSON_MARK + json.dumps(rows, default=_plain))


def run_all(names: list[str], config: Config, in_process: bool = False) -> list[Row]:
    """Every named benchmark, each in a fresh interpreter unless ``in_process``.

    A benchmark that fails (an exception, or a Mismatch between minigrad and a reference)
    becomes a row saying so; it does not stop the others.
    """
    rows: list[Row] = []
    for name in names:
        start = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        if in_process:
            try:
                rows += run_one(name, config)
            except Exception as error:  # noqa: BLE001 - reported in the table
                rows.append(_failed(name, f"{type(error).__name__}: {error}"))
        else:
            rows += _run_worker(name, config)
        elapsed = time.perf_counter() - start
        print(f"  {name} took {elapsed:.1f} s", file=sys.stderr, flush=True)
    return rows


def _run_worker(name: str, config: Config) -> list[Row]:
    command = [sys.executable, "-m", "benchmarks", "--worker", name]
    command += ["--smoke"] if config.smoke else ["--repeats", str(config.repeats)]
    command += ["--clock", config.clock]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    for line in done.stdout.splitlines():
        if line.startswith(_JSON_MARK):
            return [Row(**row) for row in json.loads(line[len(_JSON_MARK) :])]
    lines = (done.stderr or done.stdout).strip().splitlines()
    return [_failed(name, lines[-1] if lines else f"exit status {done.returncode}")]


def _failed(name: str, why: str) -> Row:
    return Row(name, "FAILED", None, "", False, why)


def _plain(x: Any) -> Any:
    """JSON for numpy scalars and anything else a check may hold."""
    try:
        return float(x)
    except (TypeError, ValueError):
        return str(x)


# ----------------------------------------------------------------------------- the table


def result_text(row: Row) -> str:
    if row.value is None:
        return "skipped" if row.measure != "FAILED" else "failed"
    if row.unit == "s":
        return show_time(row.value)
    return f"{row.value:.3g}{row.unit}" if row.unit != "x" else f"{row.value:.2f}x"


def verdict(row: Row) -> str:
    if row.met is None:
        return ""
    return "yes" if row.met else "**no**"


def table(rows: list[Row]) -> str:
    """The results as a Markdown table (also readable as plain text)."""
    lines = [
        "| benchmark | measure | result | target | met | details |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        cells = [
            row.benchmark,
            row.measure,
            result_text(row),
            row.target,
            verdict(row),
            row.detail,
        ]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


CLOCK_WORDS = {
    "cpu": "CPU time of the benchmark process (time.process_time), which leaves out the time "
    "spent waiting for a core on a shared machine",
    "wall": "elapsed wall-clock time (time.perf_counter)",
}


def generated_block(rows: list[Row], command: list[str], clock: str = "cpu") -> str:
    machine = "\n".join(f"- {line}" for line in machine_description())
    shown = " ".join(command)
    return "\n".join(
        [
            BEGIN,
            "",
            f"Measured on {time.strftime('%Y-%m-%d')} with:",
            "",
            "```sh",
            shown,
            "```",
            "",
            "A ratio is the median, over the timed repeats, of minigrad's time divided by the "
            "reference's time in the same repeat (the two sides run interleaved in one "
            "process): below 1 means minigrad is faster.  The times in the details are "
            "medians.  All are " + CLOCK_WORDS[clock] + ".  `make bench` runs the same "
            "command after installing the `bench` extra.",
            "",
            table(rows),
            "",
            "The machine:",
            "",
            machine,
            "",
            END,
        ]
    )


def write(rows: list[Row], output: str | None, command: list[str], clock: str = "cpu") -> Path:
    """Replace the generated block of the report (creating the file if needed)."""
    path = Path(output) if output else DEFAULT_OUTPUT
    block = generated_block(rows, command, clock)
    if path.exists():
        text = path.read_text()
        if BEGIN in text and END in text:
            before, rest = text.split(BEGIN, 1)
            after = rest.split(END, 1)[1]
            text = before + block + after
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
    else:
        text = f"# Performance\n\n{block}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
