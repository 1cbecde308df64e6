"""Sizes written for people, shared by the messages that refuse large inputs."""

from __future__ import annotations

_UNITS = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_bytes(nbytes: int) -> str:
    """``nbytes`` in the largest binary unit that keeps the number at 1 or more:
    ``'800 bytes'``, ``'1.5 KiB'``, ``'7.5 GiB'``."""
    if nbytes < 1024:
        return f"{nbytes} bytes"
    amount, unit = float(nbytes), 0
    while amount >= 1024 and unit < len(_UNITS) - 1:
        amount /= 1024
        unit += 1
    return f"{amount:,.1f} {_UNITS[unit]}"
