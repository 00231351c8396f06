"""``python -m agent_ft_cli`` runs the same CLI as ``agent-ft``."""

from .cli import run

if __name__ == "__main__":
    run()
