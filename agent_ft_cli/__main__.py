"""``agent-ft`` and ``python -m agent_ft_cli``: the CLI (:func:`agent_ft_cli.cli.run`).

``agent-ft --version`` alone is answered here, before typer and the commands are imported (start-up is most of
what it costs); every other command line, ``--version`` among other arguments included, goes to the CLI.
"""

import sys


def main() -> None:
    """Console-script entry point."""
    if sys.argv[1:] == ["--version"]:
        from . import __version__

        try:
            sys.stdout.write(f"agent-ft {__version__}\n")
            sys.stdout.flush()
        except BrokenPipeError:  # the reader went away (| head -0): exit 0 quietly, as every command does
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except AttributeError:  # no stdout at all (closed): nothing to print to
            pass
        return
    from .cli import run

    run()


if __name__ == "__main__":
    main()
