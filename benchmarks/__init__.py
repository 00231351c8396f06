"""Benchmarks for agent-ft: a synthetic session generator and a runner that measures commands against floors.

Run from the repository root::

    python -m benchmarks.generate --messages 200000 --out /tmp/agent-ft-bench/s200k.jsonl
    python -m benchmarks.run --sizes 20000,200000 --repeat 5

See docs/benchmarks.md.
"""
