"""Preprocessing layers (Rescaling, ...)."""
