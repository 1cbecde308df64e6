"""Checkpoints: a model's state as an ``.npz`` archive, saved atomically, loaded safely.

The format is numpy's ``.npz`` (a zip archive of ``.npy`` arrays), one array per
parameter under its dotted name, plus two small metadata arrays
(``__minigrad_format__``, ``__minigrad_source__``: the format version and the model's
class name).  Anything can read it: ``numpy.load(path)``.

Safety, in three rules:

* **Saving is atomic.**  The archive is written to a temporary file in the target's
  directory (its name shortened to fit the file-name limit), flushed and fsync'ed, then
  renamed over the target with ``os.replace`` (atomic on POSIX and Windows).  If anything
  fails midway, the temporary file is removed and the previous checkpoint is still there,
  intact.  A symbolic link is followed: its target is replaced, the link stays.
* **Loading never unpickles**: the archive is read here, member by member, with zipfile
  and numpy's ``.npy`` header reader; object arrays are refused.  A checkpoint cannot run
  code.
* **Loading checks everything before changing anything, and before reading anything.**
  Every member's zip entry and ``.npy`` header are checked first (``Archive``): no
  encryption, stored or deflated only, real-number dtypes, shapes whose size matches the
  bytes the member holds, a sensible format version.  Then the names and shapes are
  compared with the model's, and only then are arrays read.  ``CheckpointError`` lists
  every problem and the model keeps its weights.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from minigrad._units import human_bytes
from minigrad.value import data_of

__all__ = [
    "CheckpointError",
    "Archive",
    "Entry",
    "save",
    "load",
    "read",
    "flatten_state",
    "nest_state",
    "save_checkpoint",
    "load_checkpoint",
    "FORMAT_VERSION",
]

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


def flatten_state(state: Mapping[Any, Any], prefix: str = "") -> dict[str, Any]:
    """A nested state (an optimizer's or a schedule's ``state_dict()``) as one flat dict.

    Nested mappings and lists of mappings become dotted names:
    ``{"state": {0: {"exp_avg": a}}, "param_groups": [{"lr": 0.1, "betas": (0.9, 0.99)}]}``
    becomes ``{"state.0.exp_avg": a, "param_groups.0.lr": 0.1, "param_groups.0.betas":
    (0.9, 0.99)}``.  Leaves (arrays, numbers, lists of numbers) are kept as they are.
    ``nest_state`` undoes it (with string keys at every level).
    """
    if not isinstance(state, Mapping):
        raise TypeError(f"a state dict must be a mapping of names to arrays, got {type(state)}")
    flat: dict[str, Any] = {}
    for key, value in state.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_state(value, name + "."))
        elif (
            isinstance(value, (list, tuple))
            and value
            and all(isinstance(v, Mapping) for v in value)
        ):
            flat.update(flatten_state(dict(enumerate(value)), name + "."))
        else:
            flat[name] = value
    return flat


def nest_state(flat: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of ``flatten_state``: ``{"a.b.c": x}`` -> ``{"a": {"b": {"c": x}}}``.

    Keys stay strings (``"0"``, not 0): the loaders that read nested state (optimizers,
    schedules) convert positions themselves.
    """
    nested: dict[str, Any] = {}
    for name, value in flat.items():
        *path, last = str(name).split(".")
        level = nested
        for part in path:
            child = level.setdefault(part, {})
            if not isinstance(child, dict):
                raise CheckpointError(f"state entry {name!r} clashes with the entry {part!r}")
            level = child
        level[last] = value
    return nested


def _checked_arrays(state: Mapping[str, Any]) -> dict[str, np.ndarray]:
    if not isinstance(state, Mapping):
        raise TypeError(f"a state dict must be a mapping of names to arrays, got {type(state)}")
    arrays = {}
    for name, data in flatten_state(state).items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"state dict keys must be non-empty strings, got {name!r}")
        if name.startswith("__minigrad_"):
            raise ValueError(f"state dict key {name!r} is reserved for checkpoint metadata")
        array = np.asarray(data_of(data))
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"state dict entry {name!r} has dtype {array.dtype}; checkpoints hold real "
                "numbers only (no objects, so no pickling is ever needed)"
            )
        arrays[name] = array
    return arrays


def save(state: Any, path: str | os.PathLike, source: str | None = None) -> None:
    """Write a state dict (or a Module's ``state_dict()``) to ``path`` atomically.

    Nested state (an optimizer's or a schedule's ``state_dict()``) is stored under dotted
    names (``flatten_state``), so ``nn.save(opt.state_dict(), "opt.npz")`` then
    ``opt.load_state_dict(nn.load("opt.npz"))`` resumes without pickle.

    ``path`` is used as given (add the ``.npz`` suffix yourself if you want it).  The
    previous file at ``path``, if any, stays intact until the new one is complete on disk.
    If ``path`` is a symbolic link, the file it points to is replaced and the link kept.
    """
    if hasattr(state, "state_dict") and callable(state.state_dict):
        source = source or type(state).__name__
        state = state.state_dict()
    arrays = _checked_arrays(state)
    arrays[_FORMAT_KEY] = np.array(FORMAT_VERSION)
    arrays[_SOURCE_KEY] = np.array(source or "")
    path = os.fspath(path)
    if not path:
        raise ValueError("cannot save a checkpoint to '': give a file name, such as 'model.npz'")
    target = os.path.realpath(path)  # through symbolic links: replace the file, keep the link
    directory = os.path.dirname(target)
    if os.path.isdir(target):
        raise IsADirectoryError(f"cannot save a checkpoint to {path!r}: it is a directory")
    if not os.path.isdir(directory):
        shown = os.path.dirname(path) if target == os.path.abspath(path) else directory
        raise FileNotFoundError(
            f"cannot save a checkpoint to {path!r}: the folder {shown or directory!r} does not "
            "exist (create it first, for example with os.makedirs)"
        )
    mode = os.stat(target).st_mode & 0o777 if os.path.exists(target) else 0o644
    fd, temporary = _temporary_file(directory, os.path.basename(target))
    try:
        with os.fdopen(fd, "wb") as file:
            _write_arrays(file, arrays)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_directory(directory)


def _temporary_file(directory: str, name: str) -> tuple[int, str]:
    """Create ``.NAME.<random>.tmp`` next to the target, exclusively; (descriptor, path).

    NAME is shortened as needed so the whole name fits the folder's limit on file names
    (255 bytes on most systems): a target whose own name is at that limit still saves.
    """
    try:
        limit = os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        limit = 255
    if not limit or limit < 0:  # pathconf answers None or -1 when there is no limit
        limit = 255
    random_part = 8  # hex digits
    room = limit - len(b"." + b"." + b".tmp") - random_part
    stem = name
    while len(os.fsencode(stem)) > room:
        stem = stem[:-1]
    for _ in range(100):
        temporary = os.path.join(directory, f".{stem}.{secrets.token_hex(random_part // 2)}.tmp")
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            return os.open(temporary, flags, 0o600), temporary
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temporary file in {directory!r}: every name was taken")


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

#: How members may be compressed: stored (what minigrad and ``numpy.savez`` write) or
#: deflated (``numpy.savez_compressed``).  Anything else is refused before it is read.
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
_METHOD_NAMES = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}
#: Deflate cannot shrink data by more than about 1032 to 1; a member that claims a larger
#: ratio was not written by deflate, and reading it would allocate what it claims.
_MAX_DEFLATE_RATIO = 1100
#: Zip flag bits of encryption: traditional (0), strong (6), masked local headers (13).
_ENCRYPTION_BITS = 0x0001 | 0x0040 | 0x2000
#: The longest class name a checkpoint may carry in ``__minigrad_source__``.
_MAX_SOURCE_LENGTH = 1000
_READ_ERRORS = (
    ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error,
    NotImplementedError, RuntimeError, UnicodeDecodeError,
)  # fmt: skip


@dataclass(frozen=True)
class Entry:
    """One array of a checkpoint as its ``.npy`` header describes it, before it is read."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool
    info: zipfile.ZipInfo
    header_size: int  # bytes of the .npy magic and header before the data

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


class Archive:
    """An open checkpoint whose every member has been checked, none of them read yet.

    Opening checks the zip entries (no encryption, stored or deflated only, sizes that fit
    the file), every ``.npy`` header (real-number dtype, a shape whose size matches the
    bytes the member holds) and the metadata (format version, class name), and raises
    ``CheckpointError`` listing every problem before any array is allocated.  ``entries``
    then says what the file holds (name, shape, dtype), so a model can be compared with
    it before ``read`` loads the arrays.  Use it as a context manager.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)
        if not os.path.exists(self.path):
            raise FileNotFoundError(f"no checkpoint at {self.path!r}")
        try:
            with open(self.path, "rb") as file:
                if file.read(6) == b"\x93NUMPY":
                    raise CheckpointError(
                        f"{self.path!r} holds a single .npy array, not an .npz checkpoint of "
                        "named arrays"
                    )
            self._zip = zipfile.ZipFile(self.path)
        except _READ_ERRORS as error:
            raise CheckpointError(
                f"{self.path!r} is not a readable .npz checkpoint ({type(error).__name__}: {error})"
            ) from None
        try:
            self.entries, metadata = self._check_members()
            self.version, self.source = self._check_metadata(metadata)
        except BaseException:
            self._zip.close()
            raise

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    def _refuse(self, problems: list[str]) -> None:
        if len(problems) == 1:
            raise CheckpointError(f"{self.path!r} is not a valid checkpoint: {problems[0]}")
        listing = "\n".join(f"  - {p}" for p in problems)
        raise CheckpointError(f"{self.path!r} is not a valid checkpoint:\n{listing}")

    def _check_members(self) -> tuple[dict[str, Entry], dict[str, Entry]]:
        """(parameter entries, metadata entries) from the zip directory and .npy headers."""
        size = os.path.getsize(self.path)
        problems: list[str] = []
        entries: dict[str, Entry] = {}
        metadata: dict[str, Entry] = {}
        for info in self._zip.infolist():
            where = f"member {info.filename!r}"
            if info.flag_bits & _ENCRYPTION_BITS:
                problems.append(f"{where} is encrypted (checkpoints never are)")
                continue
            if info.compress_type not in _METHODS:
                method = _METHOD_NAMES.get(info.compress_type, f"number {info.compress_type}")
                problems.append(
                    f"{where} is compressed with {method}; checkpoints are stored or deflated "
                    "(what numpy.savez and numpy.savez_compressed write)"
                )
                continue
            if not info.filename.endswith(".npy") or info.filename == ".npy":
                problems.append(f"{where} is not a .npy array (its name must end in .npy)")
                continue
            name = info.filename[: -len(".npy")]
            if name in entries or name in metadata:
                problems.append(f"{where} appears twice in the archive")
                continue
            size_problem = self._size_problem(info, size)
            if size_problem:
                problems.append(f"{where} {size_problem}")
                continue
            try:
                entry = self._read_header(name, info)
            except CheckpointError as error:
                problems.append(f"{where}: {error}")
                continue
            except _READ_ERRORS as error:
                problems.append(
                    f"{where} is damaged: its .npy header cannot be read ({type(error).__name__}"
                    f": {error})"
                )
                continue
            (metadata if name in (_FORMAT_KEY, _SOURCE_KEY) else entries)[name] = entry
        if problems:
            self._refuse(problems)
        return entries, metadata

    @staticmethod
    def _size_problem(info: zipfile.ZipInfo, archive_size: int) -> str | None:
        if info.compress_size > archive_size:
            return (
                f"claims {info.compress_size:,} bytes of data, but the whole file has only "
                f"{archive_size:,} (truncated or crafted)"
            )
        if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
            return (
                f"is stored (not compressed) but claims {info.file_size:,} bytes from "
                f"{info.compress_size:,}"
            )
        if info.file_size > _MAX_DEFLATE_RATIO * info.compress_size + 1024:
            return (
                f"claims to inflate {info.compress_size:,} bytes into {info.file_size:,}, "
                "more than deflate can compress (a zip bomb, or a damaged file)"
            )
        return None

    def _read_header(self, name: str, info: zipfile.ZipInfo) -> Entry:
        with self._zip.open(info) as member:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
            else:
                raise CheckpointError(
                    f".npy format version {version} is not supported (minigrad reads 1.0 and "
                    "2.0, what numpy writes for real-number arrays)"
                )
            header_size = member.tell()
        if name == _SOURCE_KEY:
            allowed, wanted = "U", "a text string"
        elif name == _FORMAT_KEY:
            allowed, wanted = "iu", "an integer"
        else:
            allowed, wanted = "biuf", "real numbers"
        if dtype.hasobject:
            raise CheckpointError(
                "holds Python objects, which only pickle could read; checkpoints are never "
                "unpickled"
            )
        if dtype.kind not in allowed or dtype.subdtype is not None or dtype.names:
            raise CheckpointError(f"has dtype {dtype}, but it must hold {wanted}")
        if dtype.itemsize == 0:
            raise CheckpointError(f"has dtype {dtype}, whose elements hold nothing")
        if any(not isinstance(n, int) or n < 0 for n in shape):
            raise CheckpointError(f"declares an impossible shape {shape}")
        entry = Entry(name, tuple(shape), dtype, bool(fortran), info, header_size)
        held = info.file_size - header_size
        if entry.nbytes != held:
            raise CheckpointError(
                f"declares shape {entry.shape} of {dtype} ({human_bytes(entry.nbytes)}), but holds "
                f"{human_bytes(max(held, 0))} of data"
            )
        return entry

    def _check_metadata(self, metadata: dict[str, Entry]) -> tuple[int | None, str]:
        version: int | None = None
        source = ""
        if _FORMAT_KEY in metadata:
            entry = metadata[_FORMAT_KEY]
            if entry.shape != ():
                self._refuse([f"{_FORMAT_KEY} has shape {entry.shape}; it must be one number"])
            version = int(self._read_entry(entry))
            if version > FORMAT_VERSION:
                raise CheckpointError(
                    f"{self.path!r} was written in checkpoint format {version}, newer than "
                    f"this minigrad's format {FORMAT_VERSION}; upgrade minigrad to read it"
                )
            if version < 1:
                self._refuse([f"{_FORMAT_KEY} is {version}; minigrad's formats start at 1"])
        if _SOURCE_KEY in metadata:
            entry = metadata[_SOURCE_KEY]
            if entry.shape != () or entry.dtype.itemsize > 4 * _MAX_SOURCE_LENGTH:
                self._refuse(
                    [f"{_SOURCE_KEY} must be one class name of at most {_MAX_SOURCE_LENGTH} "
                     f"characters, got shape {entry.shape} of {entry.dtype}"]
                )  # fmt: skip
            source = str(self._read_entry(entry))
        return version, source

    def _read_entry(self, entry: Entry) -> np.ndarray:
        """The array of a checked entry; CheckpointError if its bytes are damaged."""
        try:
            with self._zip.open(entry.info) as member:
                member.read(entry.header_size)
                data = bytearray(entry.nbytes)
                view = memoryview(data)
                done = 0
                while done < entry.nbytes:
                    got = member.readinto(view[done:])
                    if not got:
                        raise EOFError(f"the data of {entry.name!r} ends early")
                    done += got
                if member.read(1):  # also the end of the member, where its CRC is checked
                    raise ValueError(f"{entry.name!r} holds more data than its header says")
        except _READ_ERRORS as error:
            raise CheckpointError(
                f"{self.path!r} is damaged: reading its arrays failed ({type(error).__name__}: "
                f"{error})"
            ) from None
        order = "F" if entry.fortran_order else "C"
        return np.frombuffer(data, dtype=entry.dtype).reshape(entry.shape, order=order)

    def read(self, names: Iterable[str] | None = None) -> dict[str, np.ndarray]:
        """The arrays named ``names`` (all of them by default), read and CRC-checked."""
        wanted = self.entries if names is None else {n: self.entries[n] for n in names}
        return {name: self._read_entry(entry) for name, entry in wanted.items()}


def read(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], str]:
    """(state dict, name of the class it was saved from, or "") read from ``path``.

    Raises FileNotFoundError if there is no file, CheckpointError if the file is damaged
    (truncated, corrupted), is not an ``.npz`` archive, holds pickled objects or anything
    but real-number arrays, declares arrays larger than its data, or was written by a
    newer format.  Every member is checked before any array is read.
    """
    with Archive(path) as archive:
        return archive.read(), archive.source


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The state dict stored at ``path`` (see ``read`` for the errors)."""
    return read(path)[0]


def check_against(
    named_values: list[tuple[str, Any]],
    described: Mapping[str, tuple[tuple[int, ...], np.dtype]],
    strict: bool,
    model_name: str,
    origin: str = "the state dict",
    short: str = "the state dict",
) -> None:
    """Raise ``CheckpointError`` listing every problem between the model's (name, Value)
    pairs and ``described`` (name -> (shape, dtype)): missing and unexpected names (with
    ``strict``), shapes that differ, data that are not real numbers.

    ``origin`` describes the source in the message's first line, ``short`` in its items.
    """
    model = dict(named_values)
    problems = []
    missing = [name for name in model if name not in described]
    unexpected = [name for name in described if name not in model]
    if strict and missing:
        problems.append(f"missing keys (in the model, not in {short}): {', '.join(missing)}")
    if strict and unexpected:
        problems.append(
            f"unexpected keys (in {short}, not in the model): {', '.join(map(str, unexpected))}"
        )
    for name, value in model.items():
        if name not in described:
            continue
        shape, dtype = described[name]
        if dtype.kind not in "biuf":
            problems.append(f"{name}: dtype {dtype} is not a real number type")
        elif shape != value.shape:
            problems.append(f"{name}: shape {shape} in {short}, but {value.shape} in the model")
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise CheckpointError(
            f"cannot load {origin} into {model_name}; the model was not changed:\n{listing}"
        )


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

    if not isinstance(state, Mapping):
        raise TypeError(f"load_state_dict expects a mapping of names to arrays, got {type(state)}")
    arrays = {
        name: np.asarray(data_of(raw)) for name, raw in state.items()
    }
    described = {name: (array.shape, array.dtype) for name, array in arrays.items()}
    check_against(named_values, described, strict, model_name, origin, short)
    model = dict(named_values)
    converted = {
        name: arrays[name].astype(value.dtype, copy=True)
        for name, value in model.items()
        if name in arrays
    }
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


# ============================================================================ training checkpoints

#: Bit generators whose state ``save_checkpoint`` can store, by the code stored for them.
_BIT_GENERATORS = {1: "PCG64", 2: "PCG64DXSM"}
_WORD = (1 << 64) - 1


def _rng_state(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A Generator's state as numbers: its 128-bit ``state`` and ``inc`` as 64-bit halves."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    state = rng.bit_generator.state
    codes = {name: code for code, name in _BIT_GENERATORS.items()}
    if state.get("bit_generator") not in codes:
        raise TypeError(
            f"save_checkpoint can store the state of {sorted(codes)} generators (what "
            f"numpy.random.default_rng makes), not {state.get('bit_generator')!r}"
        )
    words = []
    for part in ("state", "inc"):
        words += [state["state"][part] >> 64, state["state"][part] & _WORD]
    return {
        "kind": np.array(codes[state["bit_generator"]]),
        "words": np.array(words, dtype=np.uint64),
        "has_uint32": np.array(state["has_uint32"]),
        "uinteger": np.array(state["uinteger"], dtype=np.uint64),
    }


def _set_rng_state(rng: np.random.Generator, saved: Mapping[str, Any]) -> None:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    try:
        kind = _BIT_GENERATORS[int(saved["kind"])]
        high_s, low_s, high_i, low_i = (int(w) for w in np.asarray(saved["words"]))
        state = {
            "bit_generator": kind,
            "state": {"state": (high_s << 64) | low_s, "inc": (high_i << 64) | low_i},
            "has_uint32": int(saved["has_uint32"]),
            "uinteger": int(saved["uinteger"]),
        }
    except (KeyError, ValueError, TypeError) as error:
        raise CheckpointError(
            f"the checkpoint's random-generator state is damaged: {error}"
        ) from None
    if rng.bit_generator.state["bit_generator"] != kind:
        raise CheckpointError(
            f"the checkpoint holds a {kind} generator state; rng is a "
            f"{rng.bit_generator.state['bit_generator']}"
        )
    rng.bit_generator.state = state


def _module_generators(model: Any) -> list[np.random.Generator]:
    """The random generators of the model's modules (Dropout's masks), in module order."""
    if not hasattr(model, "named_modules"):
        return []
    found = [getattr(module, "_rng", None) for _, module in model.named_modules()]
    return [g for g in found if isinstance(g, np.random.Generator)]


def save_checkpoint(
    path: str | os.PathLike,
    model: Any,
    optimizer: Any = None,
    scheduler: Any = None,
    *,
    epoch: int | None = None,
    rng: np.random.Generator | None = None,
) -> None:
    """Everything needed to resume training, in one atomic ``.npz`` file, in one call.

    Stores ``model.state_dict()`` under ``model.``, the optimizer's and the schedule's
    state (if given) under ``optimizer.`` and ``scheduler.``, the number of epochs done
    (pass it back to ``fit(..., initial_epoch=epoch)``), the state of a numpy
    Generator you draw from yourself, and the generators of the model's own modules
    (Dropout's masks), so a resumed run with dropout draws the masks the uninterrupted
    run would have.  Same safe format as ``save``: numbers only, nothing is pickled.
    Read it back with ``load_checkpoint``.
    """
    state: dict[str, Any] = {"model": model.state_dict()}
    generators = _module_generators(model)
    if generators:
        state["module_rngs"] = {str(i): _rng_state(g) for i, g in enumerate(generators)}
    if optimizer is not None:
        state["optimizer"] = optimizer.state_dict()
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    if epoch is not None:
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"save_checkpoint: epoch must be an integer >= 0, got {epoch!r}")
        state["epoch"] = np.array(epoch)
    if rng is not None:
        state["rng"] = _rng_state(rng)
    save(state, path, source="checkpoint:" + type(model).__name__)


def load_checkpoint(
    path: str | os.PathLike,
    model: Any,
    optimizer: Any = None,
    scheduler: Any = None,
    *,
    rng: np.random.Generator | None = None,
) -> int | None:
    """Restore what ``save_checkpoint`` wrote into ``model`` (and ``optimizer``,
    ``scheduler``, ``rng`` when given); returns the saved epoch (None if none was saved).

    All or nothing: if any part does not fit (another architecture, an optimizer of other
    parameters, a part missing from the file), ``CheckpointError`` (or the ValueError of
    the part) is raised and the model, optimizer, schedule and generator keep their state.
    """
    nested = nest_state(load(path))
    wanted = {"model": model, "optimizer": optimizer, "scheduler": scheduler, "rng": rng}
    absent = [part for part, obj in wanted.items() if obj is not None and part not in nested]
    if absent:
        raise CheckpointError(f"{os.fspath(path)!r} holds no {' or '.join(absent)} state")
    model_state = flatten_state(nested["model"])
    generators = _module_generators(model)
    saved_generators = nested.get("module_rngs", {})
    if saved_generators and len(saved_generators) != len(generators):
        raise CheckpointError(
            f"{os.fspath(path)!r} holds {len(saved_generators)} module random generators, "
            f"the model has {len(generators)}"
        )
    before = (
        model.state_dict(),
        optimizer.state_dict() if optimizer is not None else None,
        scheduler.state_dict() if scheduler is not None else None,
        rng.bit_generator.state if rng is not None else None,
        [g.bit_generator.state for g in generators],
    )
    try:
        model.load_state_dict(model_state)
        if optimizer is not None:
            optimizer.load_state_dict(nested["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(nested["scheduler"])
        if rng is not None:
            _set_rng_state(rng, nested["rng"])
        for i, generator in enumerate(generators if saved_generators else []):
            _set_rng_state(generator, saved_generators[str(i)])
    except BaseException:
        model.load_state_dict(before[0])
        if optimizer is not None:
            optimizer.load_state_dict(before[1])
        if scheduler is not None:
            scheduler.load_state_dict(before[2])
        if rng is not None:
            rng.bit_generator.state = before[3]
        for generator, state in zip(generators, before[4]):
            generator.bit_generator.state = state
        raise
    return int(nested["epoch"]) if "epoch" in nested else None
