"""Client classes used by the tests (importable as ``clientpkg.<module>:<Class>`` with tests/assets on sys.path)."""
