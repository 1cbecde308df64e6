"""The ``minigrad`` command."""

from __future__ import annotations

import argparse
import sys

from minigrad import Value


def demo(args: argparse.Namespace) -> int:
    """The classic neuron, tanh(x1*w1 + x2*w2 + b): forward values, then gradients."""
    x1, x2 = Value(2.0, name="x1"), Value(0.0, name="x2")
    w1, w2 = Value(-3.0, name="w1"), Value(1.0, name="w2")
    b = Value(6.8813735870195432, name="b")
    out = (x1 * w1 + x2 * w2 + b).tanh()
    out.name = "out"
    out.backward()
    print("out = tanh(x1*w1 + x2*w2 + b)")
    for v in (x1, x2, w1, w2, b, out):
        print(f"  {v.name:>3} = {v.data: .4f}   d out/d {v.name} = {v.grad: .4f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="minigrad", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="run the demonstration").set_defaults(run=demo)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
