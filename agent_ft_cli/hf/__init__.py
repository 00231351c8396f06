"""The bundled Hugging Face client: ``agent_ft_cli.hf:HFClient`` (the optional ``hf`` extra).

Importing this package is cheap: torch, transformers, trl, peft and accelerate are imported only when
:class:`HFClient` is first used (``from agent_ft_cli.hf import HFClient`` or ``agent_ft_cli.hf:HFClient`` as a
client path), and a missing extra is one clear error naming the install command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..distributed import is_main_process
from ..fsutil import package_folder
from .errors import INSTALL, ExtraMissingError

if TYPE_CHECKING:  # pragma: no cover
    from .client import HFClient

__all__ = ["HFClient", "is_main_process", "missing_extra"]

#: The distributions the ``hf`` extra installs (import names).
EXTRA_MODULES = ("torch", "transformers", "trl", "peft", "accelerate", "datasets")


def missing_extra() -> list[str]:
    """The ``hf`` extra's modules (each a package) that cannot be imported here (found without importing them)."""
    return [name for name in EXTRA_MODULES if package_folder(name) is None]


def __getattr__(name: str) -> Any:
    if name == "HFClient":
        missing = missing_extra()
        if missing:
            raise ExtraMissingError(
                f"the Hugging Face client needs the 'hf' extra ({', '.join(missing)} not installed): {INSTALL}"
            )
        from .client import HFClient

        return HFClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
