"""kerasish's version, in a module of its own (as Keras's ``keras/src/version.py``):
the file formats write it into every file without importing the whole package.

Example:
    >>> from kerasish.version import __version__
    >>> isinstance(__version__, str)
    True
"""

__version__ = "0.1.0"
