"""leaklab's API service: a FastAPI app whose cache either leaks or stays bounded."""

__version__ = "0.1.0"
