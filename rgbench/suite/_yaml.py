"""Safe YAML loading that remembers where every key came from and refuses duplicate keys.

PyYAML's safe loader silently keeps the last of two equal keys; a suite author who writes `xi:`
twice deserves to hear about it. We compose the node graph with the safe loader (no Python tags can
be constructed), then build plain Python data ourselves, recording `(file, line)` for every path.
"""

from __future__ import annotations

import math
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]

# Alias expansion is a tree walk; a "billion laughs" document would otherwise explode.
_MAX_NODES = 200_000
_MAX_DEPTH = 64
#: The largest suite file read, checked before a byte is parsed (rg-paper.yaml is 7 KB).
MAX_FILE_BYTES = 1 << 20
_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


# YAML 1.2 core schema floats that PyYAML's 1.1 resolver leaves as strings (an exponent without a dot:
# 3e-4, 1E5); the other 1.2 floats PyYAML already reads as numbers.
_YAML12_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


@dataclass(frozen=True)
class Located:
    """A problem at a place in a file: the unit every suite error is reported in."""

    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class YamlProblem(Exception):
    def __init__(self, problems: list[Located]):
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class _Builder:
    def __init__(self, file: str, loader: yaml.SafeLoader):
        self.file = file
        self.loader = loader
        self.lines: dict[Path_, int] = {}
        self.problems: list[Located] = []
        self.count = 0

    def at(self, node: yaml.Node, path: Path_, message: str) -> Located:
        return Located(self.file, node.start_mark.line + 1, dotted(path), message)

    def problem(self, node: yaml.Node, path: Path_, message: str) -> None:
        """Record a problem and go on reading (every one is reported)."""
        self.problems.append(self.at(node, path, message))

    def fatal(self, node: yaml.Node, path: Path_, message: str) -> YamlProblem:
        """A problem that stops reading the document (raise it)."""
        return YamlProblem([self.at(node, path, message)])

    def build(self, node: yaml.Node, path: Path_, depth: int = 0) -> Any:
        self.count += 1
        if self.count > _MAX_NODES:
            raise self.fatal(node, path, f"document expands to more than {_MAX_NODES} nodes (alias bomb?)")
        if depth > _MAX_DEPTH:
            raise self.fatal(node, path, f"nested deeper than {_MAX_DEPTH} levels")
        self.lines.setdefault(path, node.start_mark.line + 1)
        if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_TAGS:
            raise self.fatal(node, path, f"YAML tag {node.tag!r} is not allowed: a suite is plain data")
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)  # resolves `<<:` merge keys the safe way
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    self.problem(key_node, path, "mapping keys must be plain strings")
                    continue
                key = self.loader.construct_object(key_node)
                if not isinstance(key, str):
                    hint = ""
                    if key is None:
                        hint = (
                            "; a bare `null:` (or `~:`) key is YAML's null value, not a word — a prediction's "
                            "nulls are written `nulls:`"
                        )
                    elif isinstance(key, bool):
                        hint = f"; YAML reads {key_node.value!r} as a boolean — quote it"
                    self.problem(key_node, path, f"mapping keys must be strings; got {key!r} ({type(key).__name__}){hint}")
                    continue
                if key in out:
                    first = self.lines.get(path + (key,))
                    self.problem(
                        key_node, path + (key,), f"duplicate key (first given on line {first}); each key may appear once"
                    )
                    continue
                self.lines[path + (key,)] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, path + (key,), depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        value = self.loader.construct_object(node)
        if isinstance(value, str) and node.style is None and _YAML12_FLOAT.match(value):
            value = float(value)  # YAML 1.2's float: an unquoted 3e-4 is the number users mean, not a string
        if isinstance(value, float) and not math.isfinite(value):
            self.problem(node, path, f"non-finite number {value!r} is not allowed in a suite")
        return value


def _hint(msg: str, text: str, mark: Any) -> str:
    """What the common slips behind a YAML syntax error usually are, and the fix."""
    if "mapping values are not allowed here" in msg and mark is not None:
        source = text.splitlines()[mark.line] if mark.line < len(text.splitlines()) else ""
        key, _, rest = source.partition(":")
        key = key.strip().removeprefix("- ")
        if rest.strip():
            return (
                f'; a value holding a colon must be quoted, e.g. {key}: "{rest.strip()}" '
                "(a layer slice such as 1: is text, not a mapping)"
            )
        return '; a value holding a colon must be quoted (e.g. layers: "1:")'
    if "found character '\\t'" in msg:
        return "; indent with spaces, not tabs"
    return ""


_FILE_TYPES = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _not_regular(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _FILE_TYPES if test(mode)), "not a regular file")
    return f"is {kind}, not a regular file: a suite is read from a regular file"


def _too_large(size: int) -> str | None:
    if size <= MAX_FILE_BYTES:
        return None
    return (
        f"is {size} bytes, more than the {MAX_FILE_BYTES} bytes (1 MiB) a suite file may have; "
        "split it into files that `include:` each other"
    )


def file_problem(path: str | Path) -> str | None:
    """Why `path` cannot be read as a suite file (missing, a symlink loop, not a regular file, too large), or None.

    Decided from ``os.stat`` alone, so a FIFO or a device is never opened (opening a FIFO blocks)."""
    try:
        info = os.stat(path)
    except OSError as e:
        return f"cannot be read: {e.strerror or e}"
    return _not_regular(info.st_mode) or _too_large(info.st_size)


def read_suite_bytes(path: str | Path, display: str) -> bytes:
    """The bytes of a suite file: a regular file of at most `MAX_FILE_BYTES`, never blocking.

    Checked with ``os.stat`` before opening, then again on the open descriptor (the path may have
    been replaced in between), which is opened non-blocking and read at most one byte past the cap."""

    def fail(message: str) -> YamlProblem:
        return YamlProblem([Located(display, None, "", f"file {message}")])

    problem = file_problem(path)
    if problem is not None:
        raise fail(problem)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise fail(f"cannot be read: {e.strerror or e}") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        problem = _not_regular(info.st_mode) or _too_large(info.st_size)
        if problem is not None:
            raise fail(problem)
        try:
            raw = f.read(MAX_FILE_BYTES + 1)
        except OSError as e:
            raise fail(f"cannot be read: {e.strerror or e}") from None
    if len(raw) > MAX_FILE_BYTES:  # grew after the check
        raise fail(f"is more than the {MAX_FILE_BYTES} bytes (1 MiB) a suite file may have")
    return raw


def load(path: str | Path, display: str | None = None) -> tuple[Any, dict[Path_, int], list[Located]]:
    """Parse a YAML file safely.

    Returns the data, a map from key path to 1-based line number, and the problems that did not stop
    parsing (duplicate keys — the first value is kept —, non-string keys, non-finite numbers), so a
    validator can report them together with its own. Raises YamlProblem when the file cannot be read
    (missing, not a regular file, larger than `MAX_FILE_BYTES`) or parsed at all (syntax errors,
    unsafe tags, alias bombs).
    """
    display = display or str(path)
    raw = read_suite_bytes(path, display)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise YamlProblem([Located(display, line, "", "file is not valid UTF-8 text")]) from None
    return loads(text, display)


def loads(text: str, display: str) -> tuple[Any, dict[Path_, int], list[Located]]:
    """`load` for YAML text that is not a file (a ``--set KEY=VALUE`` value): the same safe builder,
    the same caps on nodes and depth, the same refusals (unsafe tags, non-finite numbers)."""
    loader = None
    try:
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None, {}, []
        builder = _Builder(display, loader)
        data = builder.build(node, ())
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        msg = " ".join(str(p) for p in (e.context, e.problem) if p)
        if mark is not None:
            msg += f" (line {mark.line + 1}, column {mark.column + 1})"
        start = e.context_mark
        if e.context and start is not None and mark is not None and start.line != mark.line:
            # an unclosed bracket or quote: the error shows where it was noticed, the slip is where it began
            msg += (
                f"; the {e.context.removeprefix('while parsing a ').removeprefix('while scanning a ')} began at "
                f"line {start.line + 1}, column {start.column + 1}: is a bracket or quote there left unclosed?"
            )
        raise YamlProblem([Located(display, line, "", f"YAML syntax: {msg}{_hint(msg, text, mark)}")]) from None
    except yaml.reader.ReaderError as e:  # a control character: locate it by line and column
        before = text[: e.position]
        line, column = before.count("\n") + 1, e.position - (before.rfind("\n") + 1) + 1
        code = e.character if isinstance(e.character, int) else ord(e.character)
        raise YamlProblem(
            [
                Located(
                    display, line, "", f"control character U+{code:04X} at column {column} is not allowed in YAML text; delete it"
                )
            ]
        ) from None
    except yaml.YAMLError as e:
        raise YamlProblem([Located(display, None, "", f"YAML syntax: {e}")]) from None
    except RecursionError:
        raise YamlProblem([Located(display, None, "", "document is nested too deeply")]) from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, builder.lines, builder.problems
