"""shapelint: static tensor-shape analysis of PyTorch models (flake8 plugin and CLI)."""
__version__ = "0.1.0"
