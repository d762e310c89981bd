"""futurebank: the banking-of-the-future requirements workshop as software."""

__version__ = "0.1.0"
