"""The ``agent-ft`` command: parse arguments, call a workflow, render. No logic of its own.

:mod:`.app` holds the Typer app, the error translation and the shared option types; each command group has its
module, registered here in the order ``--help`` lists them. ``agent-ft = agent_ft_cli.cli:run``.
"""

from . import check, data, record, review, runs, update
from . import eval as evaluate
from .app import app, run

app.command()(check.inspect)
app.command()(update.update)
app.command(name="eval")(evaluate.eval_)
app.command()(check.validate)
app.command()(record.record)
app.command()(review.review)
data.register(app)
runs.register(app)

__all__ = ["app", "run"]
