"""The one way guotu reads YAML (rule packs, check lists, indicator catalogues, package data).

A YAML file is user input, and a hostile one must be refused as bad input, in bounded time
and memory, with a message naming the file, the limit and the fix. In order:

1. size: the file is measured (and read no further than the limit) before anything else
   (setting ``max_yaml_kb``);
2. encoding: strict UTF-8 (a byte-order mark is fine); GBK text gets its own hint;
3. parsing: events from libyaml (or PyYAML's pure-Python parser where libyaml is missing)
   are composed into a node tree *without recursion*, refusing every anchor and alias
   (a "billion laughs" file expands through them), the YAML merge key ``<<``, nesting deeper
   than ``max_yaml_depth`` and more than ``max_yaml_nodes`` nodes as they arrive, so no huge
   tree is ever built; then PyYAML's safe constructor builds the value, refusing a mapping
   key given twice (plain PyYAML keeps the last one silently).

Every refusal and every ``yaml.YAMLError`` becomes the caller's :class:`~guotu.errors.InputError`
subclass (CLI exit 2), with the line where it was found.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader, ReaderError
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from guotu.errors import ConfigError, InputError
from guotu.settings import Settings, load_settings

try:  # libyaml's parser: about ten times faster; only its events are used, so caps still hold
    from yaml.cyaml import CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    CParser = None

__all__ = ["YamlSource", "load_yaml"]

#: A file path, or ``(name, content)`` for text that is not a file (package data).
YamlSource = str | os.PathLike[str] | tuple[str, bytes | str]

_MERGE_TAG = "tag:yaml.org,2002:merge"
#: libyaml (0.2.5 on) refuses nesting beyond this itself, with this text.
_LIBYAML_MAX_DEPTH = 1000
_LIBYAML_TOO_DEEP = "exceeded maximum nesting depth"
_NO_ALIASES_FIX = (
    "Write the repeated content out in full instead of using & and *.",
    "请把重复的内容直接写出来，不要使用 & 和 *。",
)
_LIMIT_FIX = (
    "Check that this is the right, intact file; if it really needs more, raise the setting.",
    "请确认文件正确、未被损坏或篡改；确实需要更大的值时，请调高该设置。",
)


class _Refused(Exception):
    """A refusal found while reading: the text after "<what> <file> " and the fix."""

    def __init__(self, en: str, zh: str, fix: tuple[str, str]) -> None:
        super().__init__(en)
        self.en, self.zh = en, zh
        self.fix_en, self.fix_zh = fix


class _TooLarge(Exception):
    """A file or content of ``size`` bytes, over ``max_yaml_kb``."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def _setting(name: str) -> tuple[str, str]:
    """How a message names a setting (English, Chinese)."""
    env = f"GUOTU_{name.upper()}"
    return (f"setting {name}, environment variable {env}", f"设置 {name}，环境变量 {env}")


def _short(text: object, width: int = 40) -> str:
    s = str(text)
    return s if len(s) <= width else s[:width] + "…"


def _line(mark: Any) -> int:
    return int(mark.line) + 1 if mark is not None else 0


def _no_anchors(kind_en: str, kind_zh: str, written: str, line: int) -> _Refused:
    return _Refused(
        f"uses the YAML {kind_en} {written} on line {line}; guotu refuses anchors and aliases "
        "(& and *), through which a small file can expand to billions of entries",
        f"第 {line} 行使用了 YAML {kind_zh} {written}；一个小文件可以借助锚点和别名展开成海量"
        "内容（“十亿笑声”攻击），guotu 因此不接受锚点和别名（& 与 *）",
        _NO_ALIASES_FIX,
    )


# -- composing: events to nodes, with the caps ----------------------------------------------
class _CappedComposer:
    """Composes the node tree from parser events with a loop (no recursion), refusing
    anchors, aliases, nesting beyond ``max_depth`` and more than ``max_nodes`` nodes."""

    _max_depth: int
    _max_nodes: int
    _nodes: int
    # provided by the parser and resolver the loader classes mix in
    get_event: Callable[[], Any]
    check_event: Callable[..., bool]
    resolve: Callable[..., str]

    def _set_caps(self, max_depth: int, max_nodes: int) -> None:
        self._max_depth, self._max_nodes, self._nodes = max_depth, max_nodes, 0

    def get_single_node(self) -> Node | None:
        self.get_event()  # stream start
        node = None
        if not self.check_event(StreamEndEvent):
            self.get_event()  # document start
            node = self._compose_tree()
            self.get_event()  # document end
        if not self.check_event(StreamEndEvent):
            event = self.get_event()
            raise ComposerError(
                "expected a single document in the stream",
                node.start_mark if node is not None else None,
                "but found another document",
                event.start_mark,
            )
        self.get_event()  # stream end
        return node

    def _compose_tree(self) -> Node:
        open_nodes: list[Node] = []  # collections being composed, outermost first
        keys: list[Node | None] = []  # per open collection: a mapping key awaiting its value
        while True:
            event = self.get_event()
            if isinstance(event, SequenceEndEvent | MappingEndEvent):
                node = open_nodes.pop()
                keys.pop()
                node.end_mark = event.end_mark
            else:
                node = self._new_node(event, len(open_nodes))
                if not isinstance(node, ScalarNode):
                    open_nodes.append(node)
                    keys.append(None)
                    continue
            if not open_nodes:
                return node
            parent = open_nodes[-1]
            if isinstance(parent, SequenceNode):
                parent.value.append(node)
            elif keys[-1] is None:
                keys[-1] = node
            else:
                parent.value.append((keys[-1], node))
                keys[-1] = None

    def _new_node(self, event: Any, depth: int) -> Node:
        line = _line(event.start_mark)
        if isinstance(event, AliasEvent):
            raise _no_anchors("alias", "别名", f"*{_short(event.anchor)}", line)
        if event.anchor is not None:
            raise _no_anchors("anchor", "锚点", f"&{_short(event.anchor)}", line)
        self._nodes += 1
        if self._nodes > self._max_nodes:
            en, zh = _setting("max_yaml_nodes")
            raise _Refused(
                f"has more than {self._max_nodes} YAML nodes (scalars, lists and mappings; "
                f"passed on line {line}) ({en})",
                f"的 YAML 节点（标量、列表和映射）超过 {self._max_nodes} 个（在第 {line} 行超出；"
                f"{zh}）",
                _LIMIT_FIX,
            )
        if isinstance(event, ScalarEvent):
            tag = event.tag
            if tag is None or tag == "!":
                tag = self.resolve(ScalarNode, event.value, event.implicit)
            return ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
        if depth >= self._max_depth:
            en, zh = _setting("max_yaml_depth")
            raise _Refused(
                f"nests deeper than {self._max_depth} levels on line {line} ({en})",
                f"第 {line} 行嵌套超过 {self._max_depth} 层（{zh}）",
                _LIMIT_FIX,
            )
        if not isinstance(event, SequenceStartEvent | MappingStartEvent):  # pragma: no cover
            raise ComposerError(None, None, f"unexpected {type(event).__name__}", event.start_mark)
        kind = SequenceNode if isinstance(event, SequenceStartEvent) else MappingNode
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.resolve(kind, None, event.implicit)
        return kind(tag, [], event.start_mark, None, flow_style=event.flow_style)


# -- constructing: nodes to Python values ---------------------------------------------------
class _StrictConstructor(SafeConstructor):  # type: ignore[misc]
    """PyYAML's safe constructor, refusing merge keys and repeated mapping keys and turning
    a value Python cannot hold (an integer of 5,000 digits, a 13th month) into a YAML error."""

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as exc:
            raise ConstructorError(
                None, None, f"cannot read the value ({exc})", node.start_mark
            ) from exc

    def flatten_mapping(self, node: MappingNode) -> None:
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                line = _line(key_node.start_mark)
                raise _Refused(
                    f"uses the YAML merge key << on line {line}; guotu does not accept merge keys",
                    f"第 {line} 行使用了 YAML 合并键 <<；guotu 不接受合并键",
                    ("Write the merged keys out in full.", "请把要合并的键直接写出来。"),
                )
        super().flatten_mapping(node)

    def construct_mapping(self, node: Node, deep: bool = False) -> Any:
        if isinstance(node, MappingNode):
            self.flatten_mapping(node)
            first: dict[Any, int] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, ScalarNode):
                    continue  # a list or mapping as a key: the base class refuses it
                key = self.construct_object(key_node)
                try:
                    seen = first.get(key)
                except TypeError:  # unhashable: the base class refuses it
                    continue
                line = _line(key_node.start_mark)
                if seen is not None:
                    raise _repeated_key(key, seen, line)
                first[key] = line
        return super().construct_mapping(node, deep=deep)


def _repeated_key(key: Any, first: int, line: int) -> _Refused:
    name = _short(key)
    if first == line:
        where_en, where_zh = f"on line {line}", f"第 {line} 行的键“{name}”重复"
    else:
        where_en = f"on line {first} and again on line {line}"
        where_zh = f"第 {line} 行的键“{name}”重复（第一次出现在第 {first} 行）"
    return _Refused(
        f"gives the key {name!r} twice {where_en}; YAML would silently keep only the last one",
        f"{where_zh}；YAML 会悄悄只保留最后一个，前面的内容随之丢失",
        ("Remove or merge the repeated key.", "请删除或合并重复的键。"),
    )


class _PyLoader(_CappedComposer, Reader, Scanner, Parser, _StrictConstructor, Resolver):  # type: ignore[misc]  # fmt: skip
    """The capped loader on PyYAML's pure-Python reader, scanner and parser."""

    def __init__(self, text: str, max_depth: int, max_nodes: int) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        _StrictConstructor.__init__(self)
        Resolver.__init__(self)
        self._set_caps(max_depth, max_nodes)


if CParser is not None:

    class _CLoader(_CappedComposer, CParser, _StrictConstructor, Resolver):  # type: ignore[misc]
        """The capped loader on libyaml's parser (events only; composing stays ours)."""

        def __init__(self, text: str, max_depth: int, max_nodes: int) -> None:
            CParser.__init__(self, text)
            _StrictConstructor.__init__(self)
            Resolver.__init__(self)
            self._set_caps(max_depth, max_nodes)

    _Loader: type[Any] = _CLoader
else:  # pragma: no cover
    _Loader = _PyLoader


# -- the public function ---------------------------------------------------------------------
def load_yaml(
    source: YamlSource,
    *,
    what_zh: str,
    what_en: str,
    error: type[InputError] = ConfigError,
    limits: Settings | None = None,
) -> Any:
    """Read one YAML document safely, or refuse it as bad input.

    Parameters
    ----------
    source
        A file path, or ``(name, content)`` with ``content`` as bytes or text (package data
        read with :mod:`importlib.resources`); ``name`` is what messages call it.
    what_zh, what_en
        What the file is, for messages: ``"规则包"``, ``"rule pack"``.
    error
        The :class:`~guotu.errors.InputError` subclass raised (CLI exit 2).
    limits
        Where ``max_yaml_kb``, ``max_yaml_depth`` and ``max_yaml_nodes`` come from; default
        :func:`guotu.settings.load_settings` (so ``GUOTU_MAX_YAML_KB`` … apply).

    Returns
    -------
    Any
        What :func:`yaml.safe_load` returns for the same (valid) file: ``None`` for an empty
        one, else dicts, lists, strings, numbers, booleans, dates.

    Raises
    ------
    InputError
        ``error``, naming the file and the fix, when the file cannot be read, is larger than
        ``max_yaml_kb``, is not UTF-8, is not valid YAML (with line and column), uses an
        anchor, alias or merge key, nests deeper than ``max_yaml_depth``, holds more than
        ``max_yaml_nodes`` nodes or gives a mapping key twice.

    Examples
    --------
    >>> load_yaml(("example.yaml", b"id: a\\nrules: [x, y]\\n"), what_zh="示例", what_en="example")
    {'id': 'a', 'rules': ['x', 'y']}
    >>> load_yaml(("bomb.yaml", "a: &x [1, 2]\\nb: [*x, *x]\\n"), what_zh="示例",
    ...           what_en="example")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    guotu.errors.ConfigError: Example bomb.yaml uses the YAML anchor &x on line 1; ...
    """
    settings = load_settings() if limits is None else limits
    if isinstance(source, tuple):
        name, content = source
    else:
        name, content = str(source), None
    what = what_en[:1].upper() + what_en[1:]

    def refuse(en: str, zh: str, fix: tuple[str, str]) -> InputError:
        stop = "" if zh.endswith("。") else "。"
        return error(
            f"{what} {name} {en}.",
            file=name,
            fix=fix[0],
            message_zh=f"{what_zh} {name} {zh}{stop}",
            fix_zh=fix[1],
        )

    max_bytes = settings.max_yaml_kb * 1024
    try:
        if content is None:
            data: bytes | str = _read_capped(Path(name), max_bytes)
        else:
            data = content
            size = (
                len(content)
                if isinstance(content, bytes)
                else len(content.encode("utf-8", "surrogatepass"))
            )
            if size > max_bytes:
                raise _TooLarge(size)
        text = data if isinstance(data, str) else _decode(data)
        return _parse(text, settings.max_yaml_depth, settings.max_yaml_nodes)
    except FileNotFoundError as exc:
        raise refuse("does not exist", "不存在", ("Check the path.", "请检查路径。")) from exc
    except OSError as exc:
        raise error(
            f"Cannot read the {what_en} {name}: {exc.strerror}.",
            file=name,
            fix="Check the path.",
            message_zh=f"无法读取{what_zh} {name}：{exc.strerror}。",
            fix_zh="请检查路径。",
        ) from exc
    except _TooLarge as exc:
        en, zh = _setting("max_yaml_kb")
        kb = math.ceil(exc.size / 1024)
        raise refuse(
            f"is {kb} KB, over the limit of {settings.max_yaml_kb} KB ({en})",
            f"有 {kb} KB，超过上限 {settings.max_yaml_kb} KB（{zh}）",
            _LIMIT_FIX,
        ) from None
    except _Refused as exc:
        raise refuse(exc.en, exc.zh, (exc.fix_en, exc.fix_zh)) from None
    except yaml.YAMLError as exc:
        detail, line, column = _describe(exc, text)
        if _LIBYAML_TOO_DEEP in detail and settings.max_yaml_depth < _LIBYAML_MAX_DEPTH:
            # libyaml's scanner looks ahead and stops at its own cap before ours is reached
            en, zh = _setting("max_yaml_depth")
            raise refuse(
                f"nests deeper than {settings.max_yaml_depth} levels on line {line} ({en})",
                f"第 {line} 行嵌套超过 {settings.max_yaml_depth} 层（{zh}）",
                _LIMIT_FIX,
            ) from None
        where_en = f" (line {line}, column {column})" if line else ""
        where_zh = f"第 {line} 行第 {column} 列：" if line else ""
        raise refuse(
            f"is not valid YAML: {detail}{where_en}",
            f"不是有效的 YAML：{where_zh}{detail}",
            ("Correct the YAML syntax.", "请修正 YAML 语法。"),
        ) from exc


def _read_capped(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, measured first and never read past ``max_bytes`` (a file that
    grows, or a device that never ends, stops there too)."""
    with path.open("rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > max_bytes:
            raise _TooLarge(size)
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _TooLarge(len(data))
    return data


def _decode(data: bytes) -> str:
    """Strict UTF-8 (a byte-order mark is dropped); GBK text is named as such."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = exc.object[exc.start : exc.start + 1]
        line = data.count(b"\n", 0, exc.start) + 1
        fix = (
            "Save the file as UTF-8 (in the editor's Save As dialog, choose UTF-8).",
            "请用文本编辑器把该文件另存为 UTF-8 编码（“另存为”时编码选择 UTF-8）。",
        )
        if _looks_like_gbk(data):
            raise _Refused(
                "is not UTF-8 encoded; it looks like GBK (GB18030)",
                "不是 UTF-8 编码，看起来是 GBK（GB18030）编码",
                fix,
            ) from None
        raise _Refused(
            f"is not UTF-8 encoded (invalid byte 0x{bad.hex().upper()} on line {line})",
            f"不是 UTF-8 编码（第 {line} 行有无效字节 0x{bad.hex().upper()}）",
            fix,
        ) from None


def _looks_like_gbk(data: bytes) -> bool:
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return False
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _parse(text: str, max_depth: int, max_nodes: int) -> Any:
    loader = _Loader(text, max_depth, max_nodes)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _describe(exc: yaml.YAMLError, text: str) -> tuple[str, int, int]:
    """(what is wrong, line, column) of a PyYAML error; line 0 when unknown."""
    if isinstance(exc, ReaderError):
        position = max(int(exc.position), 0)  # libyaml counts bytes: near enough
        line = text.count("\n", 0, position) + 1
        column = position - text.rfind("\n", 0, position)
        return f"unacceptable character #x{exc.character:04x}: {exc.reason}", line, column
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    parts = [getattr(exc, "context", None), getattr(exc, "problem", None)]
    detail = ", ".join(str(p) for p in parts if p) or str(exc)
    if mark is None:
        return detail, 0, 0
    return detail, int(mark.line) + 1, int(mark.column) + 1
