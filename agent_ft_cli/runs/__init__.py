"""Run records and what reads them: every ``update`` leaves a ``run.json`` (:mod:`.record`), ``agent-ft runs``
lists and shows them (:mod:`.store`, :mod:`.summary`), charts come from plotext in the terminal (:mod:`.charts`)
and matplotlib in a PNG (:mod:`.pictures`), each imported only when asked for. docs/runs.md describes it all.

Importing this package imports nothing heavy; its modules are imported by name where they are needed.
"""
