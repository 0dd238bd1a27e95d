"""Process hygiene for the service's worker processes."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

#: prctl option: the signal a process receives when its parent dies (Linux).
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask the kernel to send this process SIGTERM when its parent dies, so that the
    workers of ``fundflow serve --workers N`` do not go on holding the port after the
    supervisor is killed (even with SIGKILL, which it cannot pass on). SIGTERM lets a
    worker finish its in-flight requests. A no-op where prctl is not available."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not glibc / no prctl
        return
    if os.getppid() == 1:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)
