"""The one command-line grammar: ``twin CMD [POSITIONAL...] KEY=VALUE...`` over a typed
config (a dataclass read through an OmegaConf structured config, as Hydra does).

``add_config_command`` declares such a subcommand, ``parse_config`` turns ``KEY=VALUE`` items
into the dataclass, ``config_help`` writes the ``--help`` table (key, type, default,
meaning) from the same dataclass, ``add_deprecated_flags`` / ``deprecated_items`` keep an
old ``--flag`` spelling working for a release (one deprecation line on stderr each), and
``one_line`` turns OmegaConf/Hydra exceptions into one line naming the key, the value and
what was expected. A field's meaning comes from ``field(metadata={"help": ...})``, from a
``key: meaning`` line in the class docstring, or from a trailing ``# comment`` on the
field's line, in that order, so it lives next to the field.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import re
import typing
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from twin.errors import InputError

_MISSING = "???"


# --- reading the schema ---------------------------------------------------------------------
def _type_name(tp: Any) -> str:
    if isinstance(tp, str):
        return tp.replace("typing.", "")
    origin = typing.get_origin(tp)
    if origin is typing.Union or type(tp).__name__ == "UnionType":
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        name = " | ".join(_type_name(a) for a in args)
        return f"{name} | null" if len(args) < len(typing.get_args(tp)) else name
    if origin is not None:
        args = ", ".join(_type_name(a) for a in typing.get_args(tp))
        return f"{origin.__name__}[{args}]" if args else origin.__name__
    return getattr(tp, "__name__", str(tp))


def _doc_meanings(cls: type) -> dict[str, str]:
    """``name: meaning`` lines of the class docstring (continuation lines appended)."""
    out: dict[str, str] = {}
    last = None
    for line in (inspect.getdoc(cls) or "").splitlines():
        m = re.match(r"^\s*([A-Za-z_][\w.]*)\s*(?:\([^)]*\))?:\s+(.+)$", line)
        if m and m.group(1) in {f.name for f in dataclasses.fields(cls)}:
            last = m.group(1)
            out[last] = m.group(2).strip()
        elif last and line.startswith((" ", "\t")) and line.strip():
            out[last] += " " + line.strip()
        else:
            last = None
    return out


def _comment_meanings(cls: type) -> dict[str, str]:
    try:
        src = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    out = {}
    for m in re.finditer(r"^\s+(\w+)\s*:[^#\n]*#\s*(.+)$", src, re.MULTILINE):
        out.setdefault(m.group(1), m.group(2).strip())
    return out


@dataclasses.dataclass(frozen=True)
class KeyDoc:
    key: str
    type: str
    default: Any
    meaning: str


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return _MISSING


def iter_keys(schema: type, prefix: str = "", defaults: dict | None = None,
              extra_help: dict[str, str] | None = None) -> Iterator[KeyDoc]:
    """Every leaf key of ``schema`` (nested dataclasses as dotted keys)."""
    hints = typing.get_type_hints(schema)
    meanings: dict[str, str] = {}
    for klass in reversed(schema.__mro__):  # a subclass's keys keep its bases' meanings
        if dataclasses.is_dataclass(klass):
            meanings.update({**_comment_meanings(klass), **_doc_meanings(klass)})
    for f in dataclasses.fields(schema):
        if f.name.startswith("_"):
            continue
        key = prefix + f.name
        tp = hints.get(f.name, f.type)
        default = _default(f)
        if defaults is not None and f.name in defaults:
            default = defaults[f.name]
        if dataclasses.is_dataclass(tp):
            yield from iter_keys(tp, key + ".", default if isinstance(default, dict) else None,
                                 extra_help)
            continue
        meaning = (f.metadata.get("help") or (extra_help or {}).get(key)
                   or meanings.get(f.name, ""))
        yield KeyDoc(key, _type_name(tp), default, meaning)


def _show(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return str(v).lower()
    if v == _MISSING:
        return "(required)"
    return str(v)


def config_help(schema: type, defaults: dict | None = None,
                extra_help: dict[str, str] | None = None, title: str = "keys") -> str:
    """The ``--help`` table: one row per key with its type, default and meaning."""
    rows = list(iter_keys(schema, defaults=defaults, extra_help=extra_help))
    wk = max(len(r.key) for r in rows)
    wt = max(len(r.type) for r in rows)
    wd = min(max(len(_show(r.default)) for r in rows), 24)
    lines = [f"{title} (KEY=VALUE; nested keys with dots; lists as [a,b]):"]
    for r in rows:
        d = _show(r.default)
        lines.append(f"  {r.key:<{wk}}  {r.type:<{wt}}  {d:<{wd}}  {r.meaning}".rstrip())
    return "\n".join(lines)


def yaml_comment_meanings(path: str | Path) -> dict[str, str]:
    """``{dotted.key: comment}`` from a YAML preset's trailing ``# comments`` (2-space
    nesting), so a Hydra preset documents its own keys."""
    out: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in Path(path).read_text().splitlines():
        m = re.match(r"^(\s*)([A-Za-z_]\w*):(.*)$", line)
        if not m:
            continue
        indent, key, rest = len(m.group(1)), m.group(2), m.group(3)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        dotted = ".".join([k for _, k in stack] + [key])
        value, hash_, comment = rest.partition("#")
        if hash_ and comment.strip():
            out[dotted] = comment.strip()
        if not value.strip():
            stack.append((indent, key))
    return out


def lazy_help(schema_path: str, text: str = "", defaults_fn=None, extra_help=None):
    """An ``epilog_fn`` for ``TwinArgumentParser``: ``text`` and the key table of the
    dataclass at ``schema_path`` (``module.Class``), imported only when --help is asked;
    ``defaults_fn()`` may return preset values (a Hydra YAML) that replace the defaults;
    ``extra_help`` is a ``{key: meaning}`` dict or a function returning one."""

    def epilog() -> str:
        import importlib

        module, _, name = schema_path.rpartition(".")
        schema = getattr(importlib.import_module(module), name)
        extra = extra_help() if callable(extra_help) else extra_help
        table = config_help(schema, defaults_fn() if defaults_fn else None, extra)
        return (text + "\n\n" if text else "") + table

    return epilog


def keys_of(schema: type) -> list[str]:
    return [k.key for k in iter_keys(schema)]


# --- declaring a command --------------------------------------------------------------------
def add_config_command(sub: Any, name: str, *, schema: str, func: Callable[..., int],
                       help: str, description: str, example: str = "",
                       positionals: Sequence[tuple[str, str]] = (), notes: str = "",
                       defaults_fn: Callable[[], dict] | None = None, extra_help: Any = None,
                       items_metavar: str = "KEY=VALUE") -> Any:
    """A subcommand ``NAME [POSITIONAL...] KEY=VALUE...`` over the dataclass at ``schema``
    (``module.Class``): ``--help`` shows ``description``, ``example``, ``notes`` and the key
    table (defaults from ``defaults_fn()`` when a preset sets them, meanings from
    ``extra_help`` as in ``lazy_help``); the ``KEY=VALUE`` items land in ``args.overrides``
    (``items_metavar`` names them in the usage line, e.g. ``MOTION | KEY=VALUE`` for a
    command whose one optional positional rides among them) and ``func(args)`` runs it.
    Returns the parser, for the few extra flags a command keeps."""
    import argparse
    import textwrap

    text = "\n\n".join(textwrap.fill(par, 88) for par in description.split("\n\n"))
    p = sub.add_parser(name, help=help, description=text,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    head = "\n".join(t for t in (f"example: {example}" if example else "", notes) if t)
    p.epilog_fn = lazy_help(schema, head, defaults_fn=defaults_fn, extra_help=extra_help)
    for arg, meaning in positionals:
        p.add_argument(arg, help=meaning)
    # default=[]: argparse would otherwise list KEY=VALUE as missing beside a positional
    p.add_argument("overrides", nargs="*", default=[], metavar=items_metavar,
                   help="keys listed below")
    p.set_defaults(func=func)
    return p


def add_deprecated_flags(p: Any, flags: dict[str, str], switches: Sequence[str] = (),
                         lists: dict[str, int | str] | None = None,
                         optional: dict[str, str] | None = None) -> None:
    """The old ``--flag VALUE`` spellings of keys (``{flag: key}``), hidden from --help;
    ``deprecated_items`` reads them back. ``switches`` took no value and mean ``key=true``;
    ``lists`` took several values (``{flag: nargs}``: ``--size 2 3`` means ``key=[2,3]``);
    ``optional`` may omit the value (``{flag: value when omitted}``)."""
    import argparse

    lists, optional = lists or {}, optional or {}
    for flag in flags:
        dest = "deprecated_" + flag.lstrip("-").replace("-", "_")
        if flag in switches:
            p.add_argument(flag, dest=dest, action="store_const", const="true", default=None,
                           help=argparse.SUPPRESS)
        elif flag in lists:
            p.add_argument(flag, dest=dest, nargs=lists[flag], default=None,
                           help=argparse.SUPPRESS)
        elif flag in optional:
            p.add_argument(flag, dest=dest, nargs="?", const=optional[flag], default=None,
                           help=argparse.SUPPRESS)
        else:
            p.add_argument(flag, dest=dest, default=None, help=argparse.SUPPRESS)
    p.set_defaults(deprecated_flags=dict(flags))


def deprecated_items(args: Any, command: str) -> list[str]:
    """``KEY=VALUE`` items for the old flags given, each announced by one line on stderr
    naming the old flag and the new spelling (put them before the user's own items, so an
    explicit ``KEY=VALUE`` wins)."""
    import sys

    items = []
    for flag, key in (getattr(args, "deprecated_flags", None) or {}).items():
        value = getattr(args, "deprecated_" + flag.lstrip("-").replace("-", "_"), None)
        if isinstance(value, list):
            value = "[" + ",".join(value) + "]"
        if value is not None:
            print(f"twin {command}: {flag} is deprecated; use {key}={value}", file=sys.stderr)
            items.append(f"{key}={value}")
    return items


# --- parsing --------------------------------------------------------------------------------
def split_items(items: Sequence[str], command: str) -> list[str]:
    """Check every item is ``KEY=VALUE`` with a key made of identifiers and dots."""
    for item in items:
        key, eq, _ = item.partition("=")
        if not eq or not re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_0-9][\w]*)*", key):
            raise InputError(f"{command}: expected KEY=VALUE, got {item!r} (see "
                             f"`twin {command} --help` for the keys)")
    return list(items)


def parse_config(schema: type, items: Sequence[str], command: str,
                 base: dict | None = None) -> Any:
    """``KEY=VALUE`` items -> an instance of the dataclass ``schema`` (typed, checked by
    OmegaConf); ``base`` holds values that override the dataclass defaults first."""
    import yaml
    from omegaconf import OmegaConf
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

    items = split_items(items, command)
    try:
        cfg = OmegaConf.structured(schema)
        if base:
            cfg = OmegaConf.merge(cfg, base)
        for item in items:
            try:
                cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist([item]))
            except (ConfigKeyError, ConfigAttributeError):
                key = item.partition("=")[0]
                raise InputError(f"{command}: unknown key {key!r}"
                                 f"{_unknown_key_hint(key, keys_of(schema), command)}"
                                 ) from None
            except yaml.YAMLError as exc:
                raise InputError(f"{command}: {item!r}: the value is not valid YAML "
                                 f"({str(exc).splitlines()[0]}); quote it or close the "
                                 "brackets") from None
        missing = sorted(OmegaConf.missing_keys(cfg))
        if missing:
            raise InputError(f"{command}: {missing[0]} is required ({missing[0]}=...)")
        return OmegaConf.to_object(cfg)
    except OmegaConfBaseException as exc:
        raise InputError(f"{command}: {one_line(exc)}") from None


def _unknown_key_hint(key: str, known: list[str], command: str) -> str:
    import difflib

    near = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    return f"{hint}; `twin {command} --help` lists the keys"


@contextlib.contextmanager
def hydra_errors(command: str, schema: type | None = None) -> Iterator[None]:
    """Turn Hydra / OmegaConf exceptions raised inside into one-line ``InputError``s
    (an unknown key gets a 'did you mean')."""
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    try:
        yield
    except (HydraException, OmegaConfBaseException) as exc:
        m = re.match(r"Could not override '([^']+)'", str(exc))
        cause = exc.__cause__ or exc.__context__
        if m and schema is not None and type(cause).__name__ in ("ConfigKeyError",
                                                                 "ConfigAttributeError"):
            key = m.group(1)
            raise InputError(f"{command}: unknown key {key!r}"
                             f"{_unknown_key_hint(key, keys_of(schema), command)}") from None
        raise InputError(f"{command}: {one_line(exc)}") from None


# --- one-line messages ----------------------------------------------------------------------
_CONVERT = re.compile(r"Value '(?P<v>.*)' of type '(?P<t>\w+)' could not be converted to "
                      r"(?P<to>\w+)")
_TYPE_WORDS = {"Integer": "an integer", "Float": "a number", "Boolean": "true or false",
               "String": "a string"}


def one_line(exc: BaseException) -> str:
    """One line for an OmegaConf / Hydra error: the key, the value and what was expected."""
    from omegaconf.errors import OmegaConfBaseException

    text = str(exc)
    cause = exc.__cause__ or exc.__context__
    m = re.match(r"Could not override '([^']+)'", text)
    if m and cause is not None:
        inner = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
        if "not in struct" in inner or type(cause).__name__ in ("ConfigKeyError",
                                                                "ConfigAttributeError"):
            return (f"unknown key {m.group(1)!r} ({inner}); `--help` lists the keys")
        return f"{m.group(1)}: {one_line(cause)}"
    if isinstance(exc, OmegaConfBaseException):
        key = getattr(exc, "full_key", None)
        first = text.splitlines()[0] if text else type(exc).__name__
        c = _CONVERT.search(first)
        if c and key:
            want = _TYPE_WORDS.get(c.group("to"), c.group("to"))
            return f"{key}={c.group('v')!r}: expected {want}"
        b = re.search(r"Value '(?P<v>.*)' is not a valid bool", first)
        if b and key:
            return f"{key}={b.group('v')!r}: expected true or false"
        a = re.search(r"Cannot assign (?P<t>\w+) to (?P<to>.+)", first)
        if a and key:
            return f"{key}: expected {a.group('to')}, got {a.group('t')}"
        inc = re.search(r"Incompatible value '(?P<v>.*)' for field of type '(?P<t>[^']+)'",
                        first)
        if inc and key:
            if inc.group("v") == "None":
                return f"{key} is empty: expected a {inc.group('t')} ({key}=VALUE)"
            return f"{key}={inc.group('v')!r}: expected a {inc.group('t')}"
        if "Missing mandatory value" in first and key:
            return f"{key} is required ({key}=...)"
        return f"{key}: {first}" if key else first
    if type(exc).__name__ == "OverrideParseException":
        return f"bad KEY=VALUE syntax: {text.splitlines()[0]}"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return "; ".join(lines) if lines else type(exc).__name__
