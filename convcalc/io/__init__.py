"""Bridges to frameworks: export to PyTorch source, import from PyTorch, verify against PyTorch."""
