"""zeroshot-nas: reproducible training-free neural architecture search."""

__version__ = "0.1.0"
