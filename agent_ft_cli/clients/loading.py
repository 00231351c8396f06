"""Load a model client class from an import string and check it against the protocol.

Two forms, as uvicorn and fastapi-cli accept apps:

* ``pkg.module:Class`` (``Class.Inner`` works too), imported with the current directory on ``sys.path``;
* ``path/to/file.py:Class``, loaded from that file.

Each failure is its own message: a malformed string, a missing module (told apart from a missing dependency
*inside* the user's module), a module that raises on import (with the file and line of a syntax error), a missing
attribute, something that is not a class, a class missing protocol methods (listed by name).

Client code is foreign code: while it runs (:func:`client_stdout_to_stderr`, which :func:`import_client` uses and the
workflows hold around construction, ``create`` and ``update_model``) file descriptor 1 points at stderr, so nothing
it prints (``print``, ``os.write(1, ...)``, a subprocess, ``sys.__stdout__``, a logging handler on stdout) reaches
the command's own stdout (``--json``). Every exception raised while importing it, ``SystemExit`` and
``GeneratorExit`` included, is a :class:`~agent_ft_cli.errors.ClientLoadError`; ``KeyboardInterrupt`` stays an
interrupt (Ctrl-C cannot be told from a client raising it).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import os
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import ClientLoadError
from .protocol import MODEL_CLIENT_METHODS, UPDATE_METHODS


def _flush(stream: Any) -> None:
    with contextlib.suppress(Exception):
        if stream is not None:
            stream.flush()


@contextlib.contextmanager
def client_stdout_to_stderr(*, quiet: bool = False) -> Iterator[None]:
    """Run client code with stdout going to stderr, at both levels: ``sys.stdout`` (or a buffer that is dropped,
    when ``quiet``) and file descriptor 1 (``os.dup2``, restored after), so what the code prints (``print``,
    ``os.write(1, ...)``, a subprocess it starts, ``sys.__stdout__``) never lands in the command's stdout.

    Re-entrant; where descriptors cannot be moved (no fd 1 or 2), only ``sys.stdout`` is redirected."""
    import io

    _flush(sys.stdout)
    _flush(sys.__stdout__)
    saved: int | None = None
    try:
        saved = os.dup(1)
        os.dup2(2, 1)
    except OSError:
        if saved is not None:
            os.close(saved)
        saved = None
    try:
        with contextlib.redirect_stdout(io.StringIO() if quiet else sys.stderr):
            yield
    finally:
        _flush(sys.__stdout__)  # what the client left in the buffer of the real stdout goes to stderr too
        _flush(sys.stdout)
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


def _is_dotted(name: str) -> bool:
    return all(part.isidentifier() for part in name.split("."))


def _is_file(module: str) -> bool:
    return module.endswith(".py") or os.sep in module or "/" in module


def _split(spec: str) -> tuple[str, str]:
    module, sep, attr = spec.rpartition(":")
    if not sep or not module or not attr or not _is_dotted(attr) or not (_is_file(module) or _is_dotted(module)):
        raise ClientLoadError(
            f"client {spec!r} is not an import path; use 'package.module:ClassName' or 'path/to/file.py:ClassName'"
        )
    return module, attr


def _origin_of_error(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        where = f"{exc.filename}:{exc.lineno}" if exc.filename else "?"
        return f"{where}: SyntaxError: {exc.msg}"
    frames = traceback.extract_tb(exc.__traceback__)
    user_frames = [f for f in frames if "importlib" not in f.filename and not f.filename.startswith("<frozen")]
    where = f"{user_frames[-1].filename}:{user_frames[-1].lineno}: " if user_frames else ""
    return f"{where}{type(exc).__name__}: {exc}"


def _import_module(module: str, spec: str) -> Any:
    if _is_file(module):
        path = Path(module)
        if not path.is_file():
            raise ClientLoadError(f"client {spec!r}: file {module!r} does not exist")
        name = f"_agent_ft_client_{abs(hash(str(path.resolve())))}"
        loader_spec = importlib.util.spec_from_file_location(name, path)
        if loader_spec is None or loader_spec.loader is None:
            raise ClientLoadError(f"client {spec!r}: cannot load {module!r} as a Python file")
        mod = importlib.util.module_from_spec(loader_spec)
        sys.modules[name] = mod
        parent = str(path.resolve().parent)
        if parent not in sys.path:
            sys.path.insert(0, parent)  # so the file can import its siblings
        try:
            loader_spec.loader.exec_module(mod)
        except BaseException as e:  # the client's failure, but an interrupt (it stays one)
            sys.modules.pop(name, None)
            if isinstance(e, KeyboardInterrupt):
                raise
            raise ClientLoadError(f"client {spec!r}: importing {module!r} failed: {_origin_of_error(e)}") from e
        return mod
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name and (e.name == module or module.startswith(e.name + ".")):
            raise ClientLoadError(
                f"client {spec!r}: module {module!r} not found (looked in the current directory and the installed "
                "packages); check the spelling or install it"
            ) from None
        raise ClientLoadError(
            f"client {spec!r}: module {module!r} was found but it imports {e.name!r}, which is not installed"
        ) from e
    except KeyboardInterrupt:
        raise
    except BaseException as e:  # SystemExit and GeneratorExit too: the client's failure, never agent-ft's exit
        raise ClientLoadError(f"client {spec!r}: importing {module!r} failed: {_origin_of_error(e)}") from e


def import_client(spec: str) -> type:
    """Resolve ``spec`` to a class, with a precise error for each way it can fail."""
    if not isinstance(spec, str) or not spec.strip():
        raise ClientLoadError("client import path is empty; use 'package.module:ClassName'")
    module, attr = _split(spec.strip())
    with client_stdout_to_stderr():
        return _resolve(spec, module, attr)


def _resolve(spec: str, module: str, attr: str) -> type:
    obj: Any = _import_module(module, spec)
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            have = _classes_defined_in(obj)
            hint = f"; classes there: {', '.join(have)}" if have else ""
            raise ClientLoadError(f"client {spec!r}: {module!r} has no attribute {part!r}{hint}") from None
    if not inspect.isclass(obj):
        kind = type(obj).__name__
        article = "an" if kind[:1].lower() in "aeiou" else "a"
        raise ClientLoadError(f"client {spec!r} is {article} {kind}, not a class; point at the client class")
    return obj


def _classes_defined_in(obj: Any) -> list[str]:
    """Public classes defined in a module (or nested in a class), not the ones it merely imports."""
    if not hasattr(obj, "__dict__"):
        return []
    home = getattr(obj, "__name__", None) if inspect.ismodule(obj) else getattr(obj, "__module__", None)
    return sorted(
        n
        for n, v in vars(obj).items()
        if inspect.isclass(v) and not n.startswith("_") and getattr(v, "__module__", None) == home
    )


def missing_methods(cls: type, *, need_update: bool = True) -> list[str]:
    """Names of protocol methods the class lacks (or has as non-callables)."""
    wanted = MODEL_CLIENT_METHODS + (UPDATE_METHODS if need_update else ())
    return [m for m in wanted if not callable(getattr(cls, m, None))]


def check_protocol(cls: type, spec: str | None = None, *, need_update: bool = True) -> type:
    """Raise :class:`ClientLoadError` naming what is missing when ``cls`` breaks the client protocol."""
    missing = missing_methods(cls, need_update=need_update)
    if missing:
        label = spec or f"{cls.__module__}:{cls.__qualname__}"
        raise ClientLoadError(
            f"client {label!r} does not follow the updateable model client protocol: missing "
            f"{', '.join(missing)}; see 'Writing an updateable client' in the README"
        )
    return cls


def load_client(spec: str, *, need_update: bool = True) -> type:
    """Import a client class and check the protocol."""
    return check_protocol(import_client(spec), spec, need_update=need_update)
