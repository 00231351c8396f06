"""What the commands do, as plain functions with typed results: :mod:`.update`, :mod:`.validate`, :mod:`.record`.

Each is a short walk along read -> config -> pair -> client -> replay; the shared steps live in :mod:`.walk` (a
later ``eval`` reuses them). Everything here raises :class:`~agent_ft_cli.errors.AgentFtError` subclasses and
never prints; the CLI renders the results.
"""
