"""``Module``: the base class of models, with parameter discovery, modes and checkpoints.

A Module finds its parameters by looking at its attributes, in the order they were
assigned: a leaf ``Value`` with ``requires_grad=True`` is a parameter, a ``Module`` is a
child whose parameters are included, and lists, tuples and dicts of those are searched
too.  Attributes whose names start with an underscore are private and never searched.
Names are dotted paths, e.g. ``layers.0.W`` is attribute ``W`` of item 0 of the list
``layers``.

Every walk through the module tree uses an explicit stack (no recursion).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from minigrad.nn import checkpoint
from minigrad.value import Value

__all__ = ["Module", "Sequential"]


_Dotted = tuple[str, str] | None  # (access path, the name or key holding a dot)


def _entries(name: str, access: str, item: Any) -> list[tuple[str, str, _Dotted, Any]]:
    """Everything ``item`` holds that a Module registers (Values and Modules), searching
    lists, tuples and dicts but not Modules, as (dotted name, access path, dotted key,
    Value or Module).

    ``access`` is how a person reaches ``item`` (``model.layers``), extended along the way
    (``model.layers[0]``); ``dotted key`` is (access path, key) for the first dict key on
    the way whose text holds a dot (such a key cannot be part of a state_dict name), or None.
    """
    found: list[tuple[str, str, _Dotted, Any]] = []
    stack: list[tuple[str, str, _Dotted, Any]] = [(name, access, None, item)]
    while stack:
        name, access, dotted, item = stack.pop()
        if isinstance(item, (Value, Module)):
            found.append((name, access, dotted, item))
        elif isinstance(item, (list, tuple)):
            for i in reversed(range(len(item))):
                stack.append((f"{name}.{i}", f"{access}[{i}]", dotted, item[i]))
        elif isinstance(item, dict):
            for key, x in reversed(list(item.items())):
                inner = f"{access}[{key!r}]"
                bad = dotted or ((inner, str(key)) if "." in str(key) else None)
                stack.append((f"{name}.{key}", inner, bad, x))
    return found


def _attribute_access(owner: str, attribute: str) -> str:
    """``model.x`` for an identifier, ``getattr(model, 'x.y')`` for any other name."""
    if attribute.isidentifier():
        return f"{owner}.{attribute}"
    return f"getattr({owner}, {attribute!r})"


_DOT_RULE = "state_dict names join attribute names and keys with dots"


def _value_paths_of(entries: list[tuple[str, str, _Dotted, Any]]) -> list[tuple[str, str]]:
    """(state_dict name, access path) of every leaf Value in ``entries`` (see ``_entries``),
    the Values of the Modules among them included."""
    found: list[tuple[str, str]] = []
    for name, path, _, item in entries:
        if isinstance(item, Module):
            inner = item._value_paths()
            found += [(f"{name}.{n}", path + p.removeprefix("model")) for n, p in inner]
        elif item.is_leaf:
            found.append((name, path))
    return found


def _check_new_member(module: Module, attribute: str, item: Any) -> None:
    """Refuse, before ``module.<attribute> = item`` happens, a name that could make two
    state_dict entries share a name (one would be lost on save and skipped on load): a dot
    in the attribute name or in a dict key, or two dict keys such as 0 and '0'."""
    owner = type(module).__name__
    access = _attribute_access("model", attribute)
    entries = _entries(attribute, access, item)
    if not entries:
        return  # holds no Value or Module: not part of the state_dict
    dotted = (access, attribute) if "." in attribute else None
    dotted = dotted or next((d for _, _, d, _ in entries if d), None)
    if dotted is not None:
        path, key = dotted
        existing = {  # what the model holds now, except what this assignment replaces
            n: p
            for n, p in module._value_paths()
            if not (p == access or p.startswith((f"{access}.", f"{access}[")))
        }
        clashes = [(n, p) for n, p in _value_paths_of(entries) if n in existing]
        suggestion = f"use a name without dots, such as {key.replace('.', '_')!r}"
        if clashes:
            name, new_path = clashes[0]
            raise ValueError(
                f"cannot assign {attribute!r} on {owner}: {new_path} and {existing[name]} would "
                f"both be saved under the state_dict name {name!r}, so a checkpoint would lose "
                f"one of them ({_DOT_RULE}); {suggestion}"
            )
        raise ValueError(
            f"cannot assign {attribute!r} on {owner}: {path} has a dot in its name, and "
            f"{_DOT_RULE}, so it can collide with a child's entry and be lost; {suggestion}"
        )
    first: dict[str, str] = {}
    for name, path, _, _ in entries:
        if name in first:
            raise ValueError(
                f"cannot assign {attribute!r} on {owner}: {first[name]} and {path} would both "
                f"be saved under the state_dict name {name!r}, so a checkpoint would lose one "
                "of them; give them different keys (0 and '0' are different keys with the same "
                "name)"
            )
        first[name] = path


def _members(owner: Any) -> list[tuple[str, Any]]:
    """The Values and Modules directly held by ``owner``'s public attributes, flattening
    lists, tuples and dicts (but not descending into Modules), in assignment order."""
    found: list[tuple[str, Any]] = []
    stack: list[tuple[str, Any]] = [
        (name, item) for name, item in reversed(list(vars(owner).items()))
        if not name.startswith("_")
    ]  # fmt: skip
    while stack:
        name, item = stack.pop()
        if isinstance(item, (Value, Module)):
            found.append((name, item))
        elif isinstance(item, (list, tuple)):
            stack.extend((f"{name}.{i}", x) for i, x in reversed(list(enumerate(item))))
        elif isinstance(item, dict):
            stack.extend((f"{name}.{k}", x) for k, x in reversed(list(item.items())))
    return found


def _check_not_replacing_a_parameter(module: Module, attribute: str, item: Value) -> None:
    """``model.w = model.w - lr * model.w.grad`` would put a computed node where the
    parameter was: it would leave parameters() and state_dict(), and the graph would grow
    with every step.  Refuse it and say how to update a parameter instead."""
    current = module.__dict__.get(attribute)
    if isinstance(current, Value) and current._op is None and current.requires_grad:
        raise TypeError(
            f"{type(module).__name__}.{attribute} is a parameter; assigning a computed Value "
            f"('{item.op}') over it would replace it with a node of a graph (it would leave "
            "parameters() and state_dict()).  Update its data instead: "
            f"self.{attribute}.data -= lr * self.{attribute}.grad, or use an optimizer"
        )


class Module:
    """Base class of every model: subclass it, assign parameters and sub-modules as
    attributes in ``__init__``, and define ``forward``.

    Example::

        class Affine(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = Value(1.0)
                self.b = Value(0.0)

            def forward(self, x):
                return self.a * x + self.b

        model = Affine()
        model.named_parameters()   # [('a', Value(...)), ('b', Value(...))]

    ``model(x)`` calls ``forward(x)``.  ``training`` is True after construction and
    switched by ``train()``/``eval()`` for the whole tree (Dropout reads it).
    """

    #: True in training mode (the default), False after ``eval()``.
    training: bool = True

    def __init__(self) -> None:
        self.training = True

    # ----------------------------------------------------------------- forward

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward(...)")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def __setattr__(self, attribute: str, item: Any) -> None:
        # Registration happens here: a name that could give two state_dict entries the
        # same name is refused before it is stored (see _check_new_member).
        if isinstance(item, (Value, Module, list, tuple, dict)) and not attribute.startswith("_"):
            _check_new_member(self, attribute, item)
            if isinstance(item, Value) and item._op is not None:
                _check_not_replacing_a_parameter(self, attribute, item)
        object.__setattr__(self, attribute, item)

    # ----------------------------------------------------------------- discovery

    def named_children(self) -> list[tuple[str, Module]]:
        """The direct sub-modules with their (possibly dotted) names, e.g. ``layers.0``."""
        return [(name, item) for name, item in _members(self) if isinstance(item, Module)]

    def children(self) -> list[Module]:
        """The direct sub-modules, in assignment order."""
        return [m for _, m in self.named_children()]

    def named_modules(self) -> list[tuple[str, Module]]:
        """Every module of the tree, depth first, the root first with name ``""``.

        A module reachable twice (shared) is listed once, under its first name.
        """
        result: list[tuple[str, Module]] = []
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [("", self)]
        while stack:
            prefix, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            result.append((prefix, module))
            children = module.named_children()
            for name, child in reversed(children):
                stack.append((f"{prefix}.{name}" if prefix else name, child))
        return result

    def modules(self) -> list[Module]:
        """Every module of the tree (the root included), depth first."""
        return [m for _, m in self.named_modules()]

    # The walk of named_modules (an explicit stack, each object once), over Values and
    # containers too: one walker for both would need a callback for what each collects.
    def _named_values(self) -> list[tuple[str, Value]]:
        """Every leaf Value of the tree (trainable or frozen), each once, with dotted names,
        in assignment order: a child module's Values come where the child was assigned."""
        result: list[tuple[str, Value]] = []
        names: set[str] = set()
        seen: set[int] = set()
        stack: list[tuple[str, Any]] = [("", self)]
        while stack:
            name, item = stack.pop()
            if id(item) in seen:
                continue
            seen.add(id(item))
            if isinstance(item, Module):
                members = _members(item)
                stack.extend((f"{name}.{n}" if name else n, x) for n, x in reversed(members))
            elif item.is_leaf:
                if name in names:
                    raise self._duplicate_name_error(name)
                names.add(name)
                result.append((name, item))
        return result

    def _duplicate_name_error(self, name: str) -> ValueError:
        """The error for two different Values that share the state_dict name ``name``
        (possible only through a container changed after it was assigned)."""
        paths = [path for n, path in self._value_paths() if n == name]
        return ValueError(
            f"{type(self).__name__} has two different Values under the state_dict name "
            f"{name!r}: {paths[0]} and {paths[1]}; a checkpoint would keep only one of them. "
            "Rename one (no dots in attribute names or dict keys, and do not mix keys such "
            "as 0 and '0')"
        )

    def _value_paths(self) -> list[tuple[str, str]]:
        """(state_dict name, how to reach it from the model) for every leaf Value, in the
        order of ``_named_values`` (slower: it builds the paths, for error messages)."""
        result: list[tuple[str, str]] = []
        seen: set[int] = set()
        stack: list[tuple[str, str, Any]] = [("", "model", self)]
        while stack:
            name, access, item = stack.pop()
            if id(item) in seen:
                continue
            seen.add(id(item))
            if isinstance(item, Module):
                found = []
                for attribute, member in vars(item).items():
                    if not attribute.startswith("_"):
                        dotted = f"{name}.{attribute}" if name else attribute
                        found += _entries(dotted, _attribute_access(access, attribute), member)
                stack.extend((n, path, x) for n, path, _, x in reversed(found))
            elif item.is_leaf:
                result.append((name, access))
        return result

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(dotted name, Value) for every parameter: leaf Values with requires_grad=True,
        each listed once even if shared, in attribute-assignment order."""
        return [(name, v) for name, v in self._named_values() if v.requires_grad]

    def parameters(self) -> list[Value]:
        """Every parameter (see ``named_parameters``), ready for an optimizer."""
        return [v for _, v in self.named_parameters()]

    def num_parameters(self) -> int:
        """The number of trainable scalars: Σ size over ``parameters()``."""
        return sum(int(p.size) for p in self.parameters())

    # ----------------------------------------------------------------- state

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``grad = None``), before the next backward."""
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=True``) or evaluation mode on this module and every
        sub-module; returns self."""
        if not isinstance(mode, bool):
            raise TypeError(f"train(mode) expects a bool, got {type(mode).__name__}")
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode for the whole tree (Dropout becomes the identity); returns self."""
        return self.train(False)

    # ----------------------------------------------------------------- checkpoints

    def state_dict(self) -> dict[str, np.ndarray]:
        """{dotted name: copy of the data as a numpy array} for every leaf Value of the
        tree (frozen ones too), in ``named_parameters`` order.  Copies: later training
        does not change a state dict already taken."""
        return {name: np.array(v.data, copy=True) for name, v in self._named_values()}

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> Module:
        """Copy ``state``'s arrays into this model's Values; returns self.

        Everything is checked before anything is assigned: keys the model has but the
        state lacks (missing), keys the model does not have (unexpected; both only with
        ``strict=True``), shapes that differ and data that are not real numbers.  Any
        problem raises ``CheckpointError`` listing all of them and leaves the model
        untouched.  Data are converted to each Value's dtype.
        """
        checkpoint.load_into(self._named_values(), state, strict, type(self).__name__)
        return self

    def save(self, path: str | os.PathLike) -> None:
        """Write ``state_dict()`` to ``path`` as an ``.npz`` archive, atomically: the
        archive goes to a temporary file in the same directory, is flushed to disk, then
        renamed over ``path``, so an interrupted save never damages an existing file."""
        checkpoint.save(self.state_dict(), path, source=type(self).__name__)

    def load(self, path: str | os.PathLike, strict: bool = True) -> Module:
        """Load a checkpoint written by ``save`` into this model; returns self.

        Reads with ``allow_pickle=False`` (never unpickles).  A damaged file, a file that
        is not a checkpoint, or one of another architecture raises ``CheckpointError``
        naming the problem; the model is then untouched.  A missing file raises
        FileNotFoundError.
        """
        named = self._named_values()
        model, short = type(self).__name__, "the checkpoint"
        with checkpoint.Archive(path) as archive:  # checks every member, reads none
            origin = f"checkpoint {os.fspath(path)!r}"
            origin += f" (saved from {archive.source})" if archive.source else ""
            # Names and shapes are compared before a single array is read:
            described = {n: (e.shape, e.dtype) for n, e in archive.entries.items()}
            checkpoint.check_against(named, described, strict, model, origin, short)
            state = archive.read(name for name, _ in named if name in described)
        checkpoint.load_into(named, state, strict, model, origin, short)
        return self

    # ----------------------------------------------------------------- display

    def extra_repr(self) -> str:
        """The one-line description shown inside ``Name(...)`` in the repr."""
        return ""

    def _repr_children(self) -> list[tuple[str, Module]]:
        """The children shown in the repr, in display order (subclasses may reorder)."""
        return self.named_children()

    def __repr__(self) -> str:
        lines: list[str] = []
        seen: set[int] = set()
        # Items: ("open", label, module, depth) or ("close", depth).
        stack: list[tuple] = [("open", "", self, 0)]
        while stack:
            item = stack.pop()
            if item[0] == "close":
                lines.append("  " * item[1] + ")")
                continue
            _, label, module, depth = item
            head = "  " * depth + (f"({label}): " if label else "")
            extra = module.extra_repr()
            children = module._repr_children() if id(module) not in seen else []
            seen.add(id(module))
            if not children:
                lines.append(f"{head}{type(module).__name__}({extra})")
                continue
            lines.append(f"{head}{type(module).__name__}({extra}")  # as PyTorch prints it
            stack.append(("close", depth))
            for name, child in reversed(children):
                stack.append(("open", name, child, depth + 1))
        return "\n".join(lines)

    def summary(self, input: Any = None) -> str:
        """A table of the model.

        Without ``input``: every parameter with its name, shape, dtype and count, and the
        total.  With ``input`` (an example batch, or its shape as a tuple of ints, filled
        with zeros of the parameters' dtype): every module, depth first, with its type, the
        shape of its output for that input and the number of parameters it holds itself
        (not counting its sub-modules), found by running ``forward`` once without
        recording a graph.
        """
        if input is None:
            rows = [
                (name, str(p.shape), str(p.dtype), p.size) for name, p in self.named_parameters()
            ]
            header = ("parameter", "shape", "dtype", "count")
        else:
            rows = self._module_rows(input)
            header = ("module", "type", "output shape", "parameters")
        widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(4)]
        fmt = "  ".join(f"{{:<{w}}}" if i < 3 else f"{{:>{w}}}" for i, w in enumerate(widths))
        lines = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
        lines += [fmt.format(*r) for r in rows]
        lines.append(f"total: {self.num_parameters():,} parameters")
        return "\n".join(lines)

    def _module_rows(self, input: Any) -> list[tuple]:
        """(name, type, output shape, own parameter count) of every module, for ``input``."""
        from minigrad.autograd import no_grad

        if isinstance(input, tuple) and all(isinstance(n, int) for n in input):
            dtypes = {p.dtype for p in self.parameters()}
            input = np.zeros(input, dtype=dtypes.pop() if len(dtypes) == 1 else np.float64)
        modules = self.named_modules()
        shapes: dict[int, str] = {}
        originals = []
        for _, module in modules:  # record each output: the instance's forward, wrapped
            original = module.forward

            def recording(*args: Any, _module=module, _original=original, **kwargs: Any) -> Any:
                out = _original(*args, **kwargs)
                shapes[id(_module)] = str(getattr(out, "shape", type(out).__name__))
                return out

            originals.append((module, "forward" in vars(module), original))
            object.__setattr__(module, "forward", recording)
        try:
            with no_grad():
                self(input)
        finally:
            for module, own, original in originals:
                if own:
                    object.__setattr__(module, "forward", original)
                else:
                    object.__delattr__(module, "forward")
        rows = []
        for name, module in modules:
            below = sum(child.num_parameters() for child in module.children())
            own = module.num_parameters() - below
            shape = shapes.get(id(module), "-")
            rows.append((name or "(model)", type(module).__name__, shape, own))
        return rows


class Sequential(Module):
    """Modules (or functions of a Value) applied one after the other.

    ``Sequential(Layer(2, 16, activation="relu"), Dropout(0.1), Layer(16, 1))``: item i
    is attribute ``"i"``, so its parameters are named ``0.W``, ``0.b``, ``2.W``... as in
    PyTorch.  Index it (``seq[0]``), iterate over it, take ``len(seq)``.
    """

    def __init__(self, *modules: Any) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
            modules = tuple(modules[0])
        for i, module in enumerate(modules):
            if not (isinstance(module, Module) or callable(module)):
                raise TypeError(
                    f"Sequential item {i} is a {type(module).__name__}, not a Module or a function"
                )
            setattr(self, str(i), module)
        self._length = len(modules)

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> Any:
        if isinstance(index, slice):
            return Sequential(*[self[i] for i in range(self._length)[index]])
        if not -self._length <= index < self._length:
            raise IndexError(f"Sequential index {index} out of range for {self._length} items")
        return getattr(self, str(index % self._length))

    def __iter__(self) -> Iterator[Any]:
        return (getattr(self, str(i)) for i in range(self._length))

    def forward(self, x: Any) -> Any:
        for module in self:
            x = module(x)
        return x
