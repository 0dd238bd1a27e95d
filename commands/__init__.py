"""Command models, their handlers, and the thin CLI adapter over them."""
