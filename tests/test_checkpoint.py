"""Checkpoints: exact round trips, all-or-nothing loading, refusal of other architectures
and damaged files without touching the model, atomic saves that survive a failing writer,
and no unpickling ever."""

from __future__ import annotations

import os
import zipfile

import numpy as np
import pytest

from minigrad import Value, nn
from minigrad.nn import checkpoint
from minigrad.nn import functional as F


def _snapshot(model):
    return {name: np.array(p.data, copy=True) for name, p in model.named_parameters()}


def _same(model, snapshot):
    return all(np.array_equal(p.data, snapshot[name]) for name, p in model.named_parameters())


def _trained(seed=0, sizes=(4, 1), dtype=np.float64):
    model = nn.MLP(2, list(sizes), seed=seed, dtype=dtype)
    x = np.random.default_rng(seed).normal(size=(8, 2))
    F.mse_loss(model(x), np.ones((8, sizes[-1]))).backward()
    for p in model.parameters():
        p.data -= 0.1 * p.grad  # weights that differ from any fresh initialisation
    return model


# ============================================================================ state dicts


def test_state_dict_is_a_copy_with_dotted_names():
    model = _trained()
    state = model.state_dict()
    assert list(state) == ["layers.0.W", "layers.0.b", "layers.1.W", "layers.1.b"]
    assert all(isinstance(a, np.ndarray) for a in state.values())
    before = state["layers.0.W"].copy()
    model.layers[0].W.data += 1.0
    assert np.array_equal(state["layers.0.W"], before)


def test_state_dict_round_trip_is_exact():
    source, target = _trained(seed=0), _trained(seed=1)
    target.load_state_dict(source.state_dict())
    for p, q in zip(source.parameters(), target.parameters()):
        assert np.array_equal(p.data, q.data)


def test_scalar_parameters_round_trip():
    a, b = nn.Neuron(3, seed=0), nn.Neuron(3, seed=1)
    a.b.data = 0.375
    b.load_state_dict(a.state_dict())
    assert b.b.data == 0.375 and type(b.b.data) is float
    assert np.array_equal(a.w.data, b.w.data)


def test_load_state_dict_refuses_mismatches_and_changes_nothing():
    model = _trained()
    before = _snapshot(model)
    bad = model.state_dict()
    bad["layers.0.W"] = np.zeros((2, 5))  # wrong shape
    del bad["layers.1.b"]  # missing
    bad["layers.2.W"] = np.zeros((1, 1))  # unexpected
    bad["layers.0.b"] = np.full(4, 7.0)  # fine on its own: must not be applied either
    with pytest.raises(nn.CheckpointError) as info:
        model.load_state_dict(bad)
    message = str(info.value)
    assert "missing keys (in the model, not in the state dict): layers.1.b" in message
    assert "unexpected keys (in the state dict, not in the model): layers.2.W" in message
    assert "layers.0.W: shape (2, 5) in the state dict, but (2, 4) in the model" in message
    assert "the model was not changed" in message
    assert _same(model, before)


def test_non_strict_loading_skips_missing_and_unexpected_but_not_shapes():
    model = _trained()
    state = {"layers.0.b": np.full(4, 2.0), "other": np.zeros(1)}
    model.load_state_dict(state, strict=False)
    assert np.array_equal(model.layers[0].b.data, np.full(4, 2.0))
    with pytest.raises(nn.CheckpointError, match="layers.0.b: shape"):
        model.load_state_dict({"layers.0.b": np.zeros(3)}, strict=False)


def test_load_state_dict_converts_to_the_model_dtype_and_rejects_non_numbers():
    model = _trained(dtype=np.float32)
    model.load_state_dict(_trained(seed=3).state_dict())
    assert all(p.dtype == np.float32 for p in model.parameters())
    state = model.state_dict()
    state["layers.0.b"] = np.array(["a", "b", "c", "d"])
    with pytest.raises(nn.CheckpointError, match="layers.0.b: dtype <U1 is not a real number"):
        model.load_state_dict(state)


def test_loading_keeps_parameter_identity_for_optimizers():
    model = _trained()
    weights = model.layers[0].W
    array = weights.data
    model.load_state_dict(_trained(seed=4).state_dict())
    assert model.layers[0].W is weights and weights.data is array


# ============================================================================ files


def test_save_and_load_round_trip_exactly(tmp_path):
    path = tmp_path / "model.npz"
    source, target = _trained(seed=0), _trained(seed=1)
    source.save(path)
    assert target.load(path) is target
    for p, q in zip(source.parameters(), target.parameters()):
        assert np.array_equal(p.data, q.data)
    # An ordinary npz: numpy alone reads it, without pickle.
    with np.load(path, allow_pickle=False) as archive:
        assert np.array_equal(archive["layers.0.W"], source.layers[0].W.data)
    assert nn.load(path).keys() == source.state_dict().keys()
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]


def test_loading_another_architecture_names_keys_and_shapes(tmp_path):
    path = tmp_path / "small.npz"
    _trained(sizes=(4, 1)).save(path)
    wider, deeper = nn.MLP(2, [8, 1], seed=0), nn.MLP(2, [4, 4, 1], seed=0)
    for model in (wider, deeper):
        before = _snapshot(model)
        with pytest.raises(nn.CheckpointError) as info:
            model.load(path)
        assert "(saved from MLP)" in str(info.value) and _same(model, before)
    with pytest.raises(
        nn.CheckpointError,
        match=r"layers.0.W: shape \(2, 4\) in the checkpoint, but \(2, 8\) in the model",
    ):
        wider.load(path)
    with pytest.raises(nn.CheckpointError, match="missing keys .*layers.2.W, layers.2.b"):
        deeper.load(path)


def test_truncated_file_is_refused_and_model_untouched(tmp_path):
    path = tmp_path / "model.npz"
    _trained(seed=0).save(path)
    data = path.read_bytes()
    model = _trained(seed=1)
    before = _snapshot(model)
    for cut in (len(data) // 2, len(data) - 30, 10):
        path.write_bytes(data[:cut])
        with pytest.raises(nn.CheckpointError, match="model.npz"):
            model.load(path)
        assert _same(model, before)


def test_corrupted_bytes_are_detected(tmp_path):
    path = tmp_path / "model.npz"
    model = _trained(seed=0)
    model.save(path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("layers.0.W.npy")
    middle = info.header_offset + 30 + len(info.filename) + info.file_size - 8
    data[middle] ^= 0xFF  # flip bits inside the weights: only the CRC can tell
    path.write_bytes(bytes(data))
    other = _trained(seed=1)
    before = _snapshot(other)
    with pytest.raises(nn.CheckpointError, match="damaged"):
        other.load(path)
    assert _same(other, before)


def test_files_that_are_not_checkpoints(tmp_path):
    model = _trained()
    text = tmp_path / "notes.txt"
    text.write_text("not a checkpoint")
    with pytest.raises(nn.CheckpointError, match="not a readable .npz checkpoint"):
        model.load(text)
    single = tmp_path / "array.npy"
    np.save(single, np.zeros(3))
    with pytest.raises(nn.CheckpointError, match="single .npy array"):
        model.load(single)
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        model.load(tmp_path / "missing.npz")


def test_loading_never_unpickles(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{"layers.0.W": np.array([object()], dtype=object)})
    model = _trained()
    before = _snapshot(model)
    with pytest.raises(nn.CheckpointError, match="pickle"):
        model.load(path)
    assert _same(model, before)


def test_newer_format_is_refused(tmp_path):
    path = tmp_path / "future.npz"
    state = _trained().state_dict()
    np.savez(path, __minigrad_format__=np.array(99), **state)
    with pytest.raises(nn.CheckpointError, match="format 99, newer"):
        _trained().load(path)


# ============================================================================ atomic saves


def test_interrupted_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    first = _trained(seed=0)
    first.save(path)
    previous = path.read_bytes()

    def failing_writer(file, arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint, "_write_arrays", failing_writer)
    with pytest.raises(OSError, match="disk full"):
        _trained(seed=1).save(path)
    assert path.read_bytes() == previous
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]  # the temporary file is gone
    restored = _trained(seed=2).load(path)
    for p, q in zip(first.parameters(), restored.parameters()):
        assert np.array_equal(p.data, q.data)


def test_interrupted_first_save_leaves_nothing(tmp_path, monkeypatch):
    def failing_writer(file, arrays):
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint, "_write_arrays", failing_writer)
    with pytest.raises(KeyboardInterrupt):
        _trained().save(tmp_path / "model.npz")
    assert os.listdir(tmp_path) == []


def test_save_replaces_the_previous_file_and_validates(tmp_path):
    path = tmp_path / "m.npz"
    _trained(seed=0).save(path)
    second = _trained(seed=1)
    second.save(path)
    assert np.array_equal(nn.load(path)["layers.0.W"], second.layers[0].W.data)
    nn.save({"w": np.arange(3.0)}, tmp_path / "plain.npz")
    assert np.array_equal(nn.load(tmp_path / "plain.npz")["w"], np.arange(3.0))
    with pytest.raises(TypeError, match="real numbers only"):
        nn.save({"w": np.array([None])}, tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="reserved"):
        nn.save({"__minigrad_format__": np.zeros(1)}, tmp_path / "bad.npz")
    with pytest.raises(IsADirectoryError):
        second.save(tmp_path)


def test_frozen_values_are_saved_and_restored(tmp_path):
    class WithBuffer(nn.Module):
        def __init__(self, value):
            super().__init__()
            self.w = Value(np.full(2, value))
            self.stats = Value(np.full(3, value), requires_grad=False)

    a, b = WithBuffer(1.0), WithBuffer(2.0)
    a.save(tmp_path / "b.npz")
    b.load(tmp_path / "b.npz")
    assert np.array_equal(b.stats.data, np.full(3, 1.0))
    assert [n for n, _ in b.named_parameters()] == ["w"]


# ============================================================================ names


class _Child(nn.Module):
    def __init__(self):
        super().__init__()
        self.y = Value(np.zeros(2))


class _Parent(nn.Module):
    def __init__(self):
        super().__init__()
        self.x = _Child()


def test_a_dotted_name_next_to_a_child_is_refused_naming_both():
    model = _Parent()
    with pytest.raises(ValueError) as info:
        setattr(model, "x.y", Value(np.ones(2)))
    message = str(info.value)
    assert "getattr(model, 'x.y') and model.x.y" in message
    assert "state_dict name 'x.y'" in message and "such as 'x_y'" in message
    assert list(model.state_dict()) == ["x.y"] and "x.y" not in vars(model)


def test_dots_in_attribute_names_and_dict_keys_are_refused_before_any_collision():
    model = _Parent()
    with pytest.raises(ValueError, match=r"getattr\(model, 'a.b'\) has a dot in its name"):
        setattr(model, "a.b", Value(1.0))
    with pytest.raises(ValueError, match=r"model.extra\[0\]\['w.1'\] has a dot"):
        model.extra = [{"w.1": Value(1.0)}]
    model.config = {"lr.decay": 0.5}  # no Value or Module inside: not part of the state
    assert list(model.state_dict()) == ["x.y"]


def test_keys_0_and_str_0_in_one_dict_are_refused_naming_both():
    model = _Parent()
    with pytest.raises(ValueError) as info:
        model.table = {0: Value(1.0), "0": Value(2.0)}
    assert (
        "model.table[0] and model.table['0'] would both be saved under the state_dict "
        "name 'table.0'" in str(info.value)
    )
    model.table = {0: Value(1.0), 1: Value(2.0)}  # integer keys alone are fine
    assert list(model.state_dict()) == ["x.y", "table.0", "table.1"]


def test_a_collision_made_after_assignment_is_refused_on_save_and_load(tmp_path):
    model = _Parent()
    model.table = {0: Value(1.0)}
    path = tmp_path / "model.npz"
    model.save(path)
    previous = path.read_bytes()
    model.table["0"] = Value(2.0)  # a dict changed in place: no assignment to check
    for action in (
        model.state_dict,
        model.parameters,
        lambda: model.save(path),
        lambda: model.load(path),
        lambda: model.load_state_dict({"x.y": np.zeros(2), "table.0": np.ones(())}),
    ):
        with pytest.raises(ValueError, match=r"model.table\[0\] and model.table\['0'\]"):
            action()
    assert path.read_bytes() == previous


# ============================================================================ hostile files


def _npy(shape, descr="<f8", data=b""):
    """The bytes of a .npy member whose header declares ``shape`` of ``descr``."""
    import io

    buffer = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + data


def _archive(path, members):
    """A zip at ``path`` holding ``members`` (name -> bytes), stored as numpy stores them."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _patch_headers(path, name, *, flag_bits=None, method=None):
    """Rewrite the general-purpose flags or the compression method of member ``name`` in
    both its local header and its central directory entry, as a crafted file would."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        local = archive.getinfo(name).header_offset
    entry = b"PK\x01\x02"  # a central directory entry; its file name starts at byte 46
    central = next(
        i
        for i in range(len(data))
        if data[i : i + 4] == entry and data[i + 46 : i + 46 + len(name)] == name.encode()
    )
    for start, flags_at in ((local, 6), (central, 8)):
        if flag_bits is not None:
            data[start + flags_at : start + flags_at + 2] = flag_bits.to_bytes(2, "little")
        if method is not None:
            data[start + flags_at + 2 : start + flags_at + 4] = method.to_bytes(2, "little")
    path.write_bytes(bytes(data))


def _one_member_checkpoint(tmp_path):
    path = tmp_path / "one.npz"
    nn.save({"w": np.arange(4.0)}, path)
    return path


@pytest.mark.parametrize(
    "version, says",
    [
        (np.array("1"), "__minigrad_format__.npy': has dtype <U1, but it must hold an integer"),
        (np.array(1.5), "has dtype float64, but it must hold an integer"),
        (np.array([1, 1]), "__minigrad_format__ has shape (2,); it must be one number"),
        (np.array(0), "__minigrad_format__ is 0; minigrad's formats start at 1"),
        (np.array(-7), "__minigrad_format__ is -7"),
    ],
)
def test_a_crafted_format_version_is_a_checkpoint_error(tmp_path, version, says):
    path = tmp_path / "crafted.npz"
    np.savez(path, __minigrad_format__=version, w=np.zeros(2))
    model = _trained()
    before = _snapshot(model)
    with pytest.raises(nn.CheckpointError) as info:
        model.load(path)
    assert says in str(info.value) and "crafted.npz" in str(info.value)
    with pytest.raises(nn.CheckpointError):
        nn.load(path)
    assert _same(model, before)


def test_a_crafted_class_name_is_a_checkpoint_error(tmp_path):
    path = tmp_path / "crafted.npz"
    np.savez(path, __minigrad_source__=np.array(["MLP", "MLP"]), w=np.zeros(2))
    with pytest.raises(nn.CheckpointError, match="must be one class name"):
        nn.load(path)
    _archive(path, {"__minigrad_source__.npy": _npy((), descr="<U0")})
    with pytest.raises(nn.CheckpointError, match="has dtype <U0, whose elements hold nothing"):
        nn.load(path)


@pytest.mark.parametrize(
    "flag_bits, method, says",
    [
        (0x0001, None, "is encrypted (checkpoints never are)"),
        (0x0041, None, "is encrypted"),
        (None, 99, "is compressed with number 99; checkpoints are stored or deflated"),
        (None, zipfile.ZIP_BZIP2, "is compressed with bzip2"),
    ],
)
def test_encrypted_or_oddly_compressed_members_are_refused(tmp_path, flag_bits, method, says):
    path = _one_member_checkpoint(tmp_path)
    _patch_headers(path, "w.npy", flag_bits=flag_bits, method=method)
    with pytest.raises(nn.CheckpointError, match="one.npz") as info:
        nn.load(path)
    assert f"member 'w.npy' {says}" in str(info.value)


def test_a_header_declaring_a_trillion_elements_allocates_nothing(tmp_path):
    import tracemalloc

    path = tmp_path / "huge.npz"
    _archive(path, {"w.npy": _npy((10**12,), data=bytes(16))})
    tracemalloc.start()
    try:
        with pytest.raises(nn.CheckpointError) as info:
            nn.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, f"{peak} bytes allocated to refuse the file"
    message = str(info.value)
    assert "member 'w.npy': declares shape (1000000000000,) of float64 (7.3 TiB)" in message
    assert "but holds 16 bytes of data" in message


@pytest.mark.parametrize(
    "member, says",
    [
        (_npy((2,), descr="|O", data=bytes(16)), "holds Python objects"),
        (_npy((2,), descr="<c16", data=bytes(32)), "has dtype complex128, but it must hold real"),
        (_npy((2,), descr="<U3", data=bytes(24)), "has dtype <U3"),
        (_npy((3,), data=bytes(16)), "declares shape (3,) of float64 (24 bytes), but holds 16"),
        (b"\x93NUMPY\x09\x00", ".npy format version (9, 0) is not supported"),
        (b"\x93NUMPY\x01\x00\x10\x00{'descr':", "is damaged: its .npy header cannot be read"),
    ],
)
def test_bad_array_headers_are_refused_before_reading(tmp_path, member, says):
    path = tmp_path / "bad.npz"
    _archive(path, {"w.npy": member})
    with pytest.raises(nn.CheckpointError) as info:
        nn.load(path)
    assert says in str(info.value)


def test_duplicate_and_foreign_members_are_refused(tmp_path):
    path = tmp_path / "twice.npz"
    with pytest.warns(UserWarning, match="Duplicate name"):
        _archive(path, {"w.npy": _npy((1,), data=bytes(8))})
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("w.npy", _npy((1,), data=bytes(8)))
    with pytest.raises(nn.CheckpointError, match="member 'w.npy' appears twice"):
        nn.load(path)
    _archive(path, {"notes.txt": b"hello", "w.npy": _npy((1,), data=bytes(8))})
    with pytest.raises(nn.CheckpointError, match="member 'notes.txt' is not a .npy array"):
        nn.load(path)


def test_names_and_shapes_are_checked_before_any_array_is_read(tmp_path):
    import tracemalloc

    path = tmp_path / "wide.npz"
    nn.save({"layers.0.W": np.zeros((2, 2_000_000)), "layers.0.b": np.zeros(4)}, path)
    model = _trained()
    before = _snapshot(model)
    tracemalloc.start()
    try:
        with pytest.raises(nn.CheckpointError, match=r"layers.0.W: shape \(2, 2000000\)"):
            model.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, f"{peak} bytes allocated: the 32 MB array was read"
    assert _same(model, before)


# ============================================================================ hostile paths


def test_saving_to_a_254_character_file_name_works(tmp_path):
    path = tmp_path / ("m" * 250 + ".npz")
    _trained(seed=0).save(path)
    _trained(seed=0).save(path)  # and replacing it
    assert os.listdir(tmp_path) == [path.name]
    assert nn.load(path).keys() == _trained().state_dict().keys()


def test_a_missing_folder_is_named_as_the_folder(tmp_path):
    folder = tmp_path / "no" / "such"
    with pytest.raises(FileNotFoundError) as info:
        _trained().save(folder / "model.npz")
    assert f"the folder {str(folder)!r} does not exist" in str(info.value)
    assert ".tmp" not in str(info.value)
    with pytest.raises(ValueError, match="give a file name"):
        nn.save({"w": np.zeros(1)}, "")


def test_saving_through_a_symlink_writes_the_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "store" / "model.npz"
    target.parent.mkdir()
    _trained(seed=0).save(target)
    link = tmp_path / "latest.npz"
    link.symlink_to(target)
    newer = _trained(seed=1)
    newer.save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert np.array_equal(nn.load(target)["layers.0.W"], newer.layers[0].W.data)
    assert sorted(os.listdir(target.parent)) == ["model.npz"]


def _patch_sizes(path, name, *, compressed, uncompressed):
    """Rewrite the sizes the central directory records for member ``name``."""
    data = bytearray(path.read_bytes())
    at = next(
        i
        for i in range(len(data))
        if data[i : i + 4] == b"PK\x01\x02" and data[i + 46 : i + 46 + len(name)] == name.encode()
    )
    data[at + 20 : at + 24] = compressed.to_bytes(4, "little")
    data[at + 24 : at + 28] = uncompressed.to_bytes(4, "little")
    path.write_bytes(bytes(data))


def test_zip_entries_claiming_more_than_the_file_holds_are_refused(tmp_path):
    path = _one_member_checkpoint(tmp_path)
    _patch_sizes(path, "w.npy", compressed=10**9, uncompressed=10**9)
    with pytest.raises(nn.CheckpointError, match="claims 1,000,000,000 bytes of data, but"):
        nn.load(path)
    deflated = tmp_path / "deflated.npz"
    np.savez_compressed(deflated, w=np.zeros(1000))
    assert nn.load(deflated)["w"].shape == (1000,)  # numpy's compressed archives load
    compressed = zipfile.ZipFile(deflated).getinfo("w.npy").compress_size
    _patch_sizes(deflated, "w.npy", compressed=compressed, uncompressed=4 * 10**9)
    with pytest.raises(nn.CheckpointError, match="into 4,000,000,000, more than deflate can"):
        nn.load(deflated)
