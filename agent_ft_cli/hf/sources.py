"""What transformers and TRL define, read from their installed source files without importing them.

``validate`` (and ``update`` before anything expensive) checks a model's architecture and the trainer setting names
while staying light: importing transformers and TRL costs seconds of CPU (torch included). Their definitions are
plain literals and dataclasses, so they are read with :mod:`ast`:

* :func:`lm_mappings`: transformers' ``MODEL_FOR_CAUSAL_LM_MAPPING_NAMES`` and ``MODEL_FOR_MASKED_LM_MAPPING_NAMES``
  (``models/auto/modeling_auto.py``, ``OrderedDict([...])`` literals);
* :func:`config_fields`: the field names of TRL's ``DPOConfig``/``SFTConfig``/``KTOConfig``, following their
  dataclass bases (``_BaseConfig``, transformers' ``TrainingArguments``) through the ``import`` statements.

When a module is imported already, its objects are used instead. Anything unexpected (a file moved, a mapping that
is not a literal, a field list without ``output_dir``) gives None, and the caller says the check was not made;
tests/hf/test_hf_sources.py checks that both equal the imported objects on the installed versions.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import sys
from pathlib import Path
from typing import Any

from ..fsutil import package_folder

#: TRL's config class of each training method, and the module that defines it.
CONFIGS = {"dpo": ("DPOConfig", "trl.trainer.dpo_config"), "sft": ("SFTConfig", "trl.trainer.sft_config"),
           "kto": ("KTOConfig", "trl.trainer.kto_config")}
MODELING_AUTO = "transformers.models.auto.modeling_auto"


class SourceUnreadable(Exception):
    """The installed source is not shaped as expected: the check is not made (and the caller says so)."""


def _module_file(dotted: str) -> Path:
    """The source file of ``dotted`` (a module or a package's ``__init__.py``), found without importing anything."""
    top, *rest = dotted.split(".")
    folder = package_folder(top)
    if folder is None:
        raise SourceUnreadable(f"{top} is not installed as a package of source files")
    base = folder.joinpath(*rest)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    raise SourceUnreadable(f"no source file for {dotted}")


@functools.cache
def _parse(dotted: str) -> ast.Module:
    path = _module_file(dotted)
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, ValueError) as e:
        raise SourceUnreadable(f"{path} cannot be read ({e})") from None


def _resolve(dotted: str, name: str, depth: int = 0) -> tuple[str, ast.ClassDef]:
    """The class ``name`` as seen from module ``dotted``: defined there, or imported there (followed)."""
    if depth > 8:
        raise SourceUnreadable(f"{name} is imported through too many modules")
    tree = _parse(dotted)
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef) and stmt.name == name:
            return dotted, stmt
    is_package = _module_file(dotted).name == "__init__.py"
    for node in ast.walk(tree):  # `from x import Name` anywhere (transformers imports under TYPE_CHECKING)
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    return _resolve(_absolute(dotted, node, is_package), alias.name, depth + 1)
    raise SourceUnreadable(f"{name} is neither defined nor imported in {dotted}")


def _absolute(dotted: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = dotted.split(".")
    keep = len(parts) - node.level + (1 if is_package else 0)
    if keep < 1:
        raise SourceUnreadable(f"a relative import in {dotted} goes above its package")
    return ".".join([*parts[:keep], *([node.module] if node.module else [])])


def _is_dataclass(node: ast.ClassDef) -> bool:
    for deco in node.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        if (isinstance(target, ast.Name) and target.id == "dataclass") or (
            isinstance(target, ast.Attribute) and target.attr == "dataclass"
        ):
            return True
    return False


def _annotation_kind(annotation: ast.expr) -> str:
    text = ast.unparse(annotation)
    return text.split("[", 1)[0].rsplit(".", 1)[-1]


def _fields(dotted: str, node: ast.ClassDef, depth: int = 0) -> dict[str, None]:
    """The dataclass fields of ``node`` in definition order (bases first), as :func:`dataclasses.fields` lists them."""
    out: dict[str, None] = {}
    for base in reversed(node.bases):  # the MRO of single inheritance; the last base's fields come first
        name = base.id if isinstance(base, ast.Name) else base.attr if isinstance(base, ast.Attribute) else None
        if name is None:
            raise SourceUnreadable(f"{node.name} has a base that is not a plain name")
        if name in ("object", "Generic"):
            continue
        where, base_node = _resolve(dotted, name, depth + 1)
        out.update(_fields(where, base_node, depth + 1))
    if not _is_dataclass(node):
        return out
    for item in node.body:
        if (isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
                and _annotation_kind(item.annotation) not in ("ClassVar", "InitVar")):
            out[item.target.id] = None
    return out


@functools.cache
def config_fields(method: str) -> frozenset[str] | None:
    """The field names of the TRL config of ``method`` (``dpo``/``sft``/``kto``), or None when they cannot be read
    without importing TRL."""
    name, module = CONFIGS[method]
    loaded = sys.modules.get(module)
    if loaded is not None and hasattr(loaded, name):
        return frozenset(f.name for f in dataclasses.fields(getattr(loaded, name)))
    try:
        return source_config_fields(method)
    except SourceUnreadable:
        return None


def source_config_fields(method: str) -> frozenset[str]:
    """:func:`config_fields` from TRL's source only; raises :class:`SourceUnreadable` saying why it cannot."""
    name, module = CONFIGS[method]
    where, node = _resolve(module, name)
    names = frozenset(_fields(where, node))
    if not {"output_dir", "learning_rate"} <= names:
        raise SourceUnreadable(f"{name}'s fields as read lack output_dir or learning_rate")
    return names


def why_unreadable(method: str) -> str:
    """Why :func:`config_fields` gave None (for the note that says the names were not checked)."""
    try:
        source_config_fields(method)
    except SourceUnreadable as e:
        return str(e)
    return "it reads now"


@functools.cache
def lm_mappings() -> tuple[dict[str, Any], frozenset[str]] | None:
    """transformers' causal-LM mapping (model type -> class name(s)) and the model types of its masked-LM mapping,
    or None when they cannot be read without importing transformers."""
    loaded = sys.modules.get(MODELING_AUTO)
    if loaded is not None and hasattr(loaded, "MODEL_FOR_CAUSAL_LM_MAPPING_NAMES"):
        return dict(loaded.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES), frozenset(loaded.MODEL_FOR_MASKED_LM_MAPPING_NAMES)
    try:
        return source_lm_mappings()
    except SourceUnreadable:
        return None


def source_lm_mappings() -> tuple[dict[str, Any], frozenset[str]]:
    """:func:`lm_mappings` from transformers' source only; raises :class:`SourceUnreadable` saying why it cannot."""
    found: dict[str, dict[str, Any]] = {}
    for node in _parse(MODELING_AUTO).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target = node.targets[0].id
            if target in ("MODEL_FOR_CAUSAL_LM_MAPPING_NAMES", "MODEL_FOR_MASKED_LM_MAPPING_NAMES"):
                value = node.value
                if not (isinstance(value, ast.Call) and len(value.args) == 1 and not value.keywords):
                    raise SourceUnreadable(f"{target} is not an OrderedDict([...]) literal")
                try:
                    found[target] = dict(ast.literal_eval(value.args[0]))
                except (ValueError, TypeError, SyntaxError) as e:
                    raise SourceUnreadable(f"{target} is not a literal ({e})") from None
    causal, masked = found.get("MODEL_FOR_CAUSAL_LM_MAPPING_NAMES"), found.get("MODEL_FOR_MASKED_LM_MAPPING_NAMES")
    if not causal or masked is None or "llama" not in causal:
        raise SourceUnreadable(f"{MODELING_AUTO} does not define the causal and masked LM mappings as expected")
    return causal, frozenset(masked)
