"""Tests of the bundled Hugging Face client (a package, so its conftest is not confused with tests/conftest.py)."""
