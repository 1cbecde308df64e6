"""Checkpoints: a model's state as an ``.npz`` archive, saved atomically, loaded safely.

The format is numpy's ``.npz`` (a zip archive of ``.npy`` arrays), one array per
parameter under its dotted name, plus two small metadata arrays
(``__minigrad_format__``, ``__minigrad_source__``: the format version and the model's
class name).  Anything can read it: ``numpy.load(path)``.

Safety, in three rules:

* **Saving is atomic.**  The archive is written to a temporary file in the target's
  directory, flushed and fsync'ed, then renamed over the target with ``os.replace``
  (atomic on POSIX and Windows).  If anything fails midway, the temporary file is removed
  and the previous checkpoint is still there, intact.
* **Loading never unpickles** (``allow_pickle=False``): a checkpoint cannot run code.
* **Loading checks everything before changing anything.**  A damaged file, a file that is
  not a checkpoint, missing or unexpected names, mismatched shapes: ``CheckpointError``
  lists every problem and the model keeps its weights.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from typing import IO, Any

import numpy as np

__all__ = ["CheckpointError", "save", "load", "read", "FORMAT_VERSION"]

#: Version of the archive layout; a file written by a newer layout is refused.
FORMAT_VERSION = 1
_FORMAT_KEY = "__minigrad_format__"
_SOURCE_KEY = "__minigrad_source__"


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded: damaged, not a checkpoint, or of another
    architecture.  The message names every problem; the model was not changed."""


# ============================================================================ saving


def _write_arrays(file: IO[bytes], arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to the open binary ``file`` as an .npz (zip of .npy) archive."""
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def _checked_arrays(state: Mapping[str, Any]) -> dict[str, np.ndarray]:
    from minigrad.value import Value

    if not isinstance(state, Mapping):
        raise TypeError(f"a state dict must be a mapping of names to arrays, got {type(state)}")
    arrays = {}
    for name, data in state.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"state dict keys must be non-empty strings, got {name!r}")
        if name.startswith("__minigrad_"):
            raise ValueError(f"state dict key {name!r} is reserved for checkpoint metadata")
        array = np.asarray(data.data if isinstance(data, Value) else data)
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"state dict entry {name!r} has dtype {array.dtype}; checkpoints hold real "
                "numbers only (no objects, so no pickling is ever needed)"
            )
        arrays[name] = array
    return arrays


def save(state: Any, path: str | os.PathLike, source: str | None = None) -> None:
    """Write a state dict (or a Module's ``state_dict()``) to ``path`` atomically.

    ``path`` is used as given (add the ``.npz`` suffix yourself if you want it).  The
    previous file at ``path``, if any, stays intact until the new one is complete on disk.
    """
    if hasattr(state, "state_dict") and callable(state.state_dict):
        source = source or type(state).__name__
        state = state.state_dict()
    arrays = _checked_arrays(state)
    arrays[_FORMAT_KEY] = np.array(FORMAT_VERSION)
    arrays[_SOURCE_KEY] = np.array(source or "")
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot save a checkpoint to {path!r}: it is a directory")
    mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o644
    fd, temporary = tempfile.mkstemp(
        prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory
    )
    try:
        with os.fdopen(fd, "wb") as file:
            _write_arrays(file, arrays)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_directory(directory)


def _sync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); harmless to skip where unsupported."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ============================================================================ loading


def read(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], str]:
    """(state dict, name of the class it was saved from, or "") read from ``path``.

    Raises FileNotFoundError if there is no file, CheckpointError if the file is damaged
    (truncated, corrupted), is not an ``.npz`` archive, holds pickled objects, or was
    written by a newer format.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path!r}")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise CheckpointError(
            f"{path!r} is not a readable .npz checkpoint ({type(error).__name__}: {error})"
        ) from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise CheckpointError(
            f"{path!r} holds a single .npy array, not an .npz checkpoint of named arrays"
        )
    try:
        with loaded:
            state = {name: loaded[name] for name in loaded.files}  # reads (and CRC-checks) all
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as error:
        raise CheckpointError(
            f"{path!r} is damaged: reading its arrays failed ({type(error).__name__}: {error})"
        ) from None
    version = state.pop(_FORMAT_KEY, None)
    source = state.pop(_SOURCE_KEY, None)
    if version is not None and (version.shape != () or int(version) > FORMAT_VERSION):
        raise CheckpointError(
            f"{path!r} was written in checkpoint format {version}, newer than this "
            f"minigrad's format {FORMAT_VERSION}; upgrade minigrad to read it"
        )
    return state, (str(source) if source is not None else "")


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The state dict stored at ``path`` (see ``read`` for the errors)."""
    return read(path)[0]


def load_into(
    named_values: list[tuple[str, Any]],
    state: Mapping[str, Any],
    strict: bool,
    model_name: str,
    origin: str = "the state dict",
    short: str = "the state dict",
) -> None:
    """Check ``state`` against the model's (name, Value) pairs, then assign; see
    ``Module.load_state_dict``.  All-or-nothing: any problem raises before any change.

    ``origin`` describes the source in the message's first line, ``short`` in its items.
    """
    from minigrad.value import Value

    if not isinstance(state, Mapping):
        raise TypeError(f"load_state_dict expects a mapping of names to arrays, got {type(state)}")
    model = dict(named_values)
    problems = []
    missing = [name for name in model if name not in state]
    unexpected = [name for name in state if name not in model]
    if strict and missing:
        problems.append(f"missing keys (in the model, not in {short}): {', '.join(missing)}")
    if strict and unexpected:
        problems.append(
            f"unexpected keys (in {short}, not in the model): {', '.join(map(str, unexpected))}"
        )
    converted = {}
    for name, value in model.items():
        if name not in state:
            continue
        raw = state[name]
        array = np.asarray(raw.data if isinstance(raw, Value) else raw)
        if array.dtype.kind not in "biuf":
            problems.append(f"{name}: dtype {array.dtype} is not a real number type")
        elif array.shape != value.shape:
            problems.append(
                f"{name}: shape {array.shape} in {short}, but {value.shape} in the model"
            )
        else:
            converted[name] = array.astype(value.dtype, copy=True)
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise CheckpointError(
            f"cannot load {origin} into {model_name}; the model was not changed:\n{listing}"
        )
    for name, array in converted.items():
        value = model[name]
        data = value.data
        if isinstance(data, np.ndarray) and data.flags.writeable:
            data[...] = array  # in place: views and references to the array stay valid
            value._touch()  # graphs built from the old weights must not be backpropagated
        elif isinstance(data, np.ndarray):
            value.data = array
        else:
            value.data = float(array) if value.dtype == np.float64 else value.dtype.type(array)
