"""The version of evalkit, in a room of its own so provenance can read it without importing the
package facade (evalkit/__init__.py)."""

__version__ = "0.1.0"
