"""setup.py -- `pip install ./python --no-build-isolation` with Debian's setuptools (no network).
The package is pure Python: it loads libactlab.so at import (ACTLAB_LIB, or the library that
`make install` put on the loader's path); docs/python.md."""
from setuptools import setup

setup(
    name="actlab",
    version="0.1.0",
    description="actlab's activation kernels from numpy and PyTorch",
    packages=["actlab", "actlab.torch"],
    python_requires=">=3.9",
    install_requires=["numpy"],
    extras_require={"torch": ["torch"]},
)
