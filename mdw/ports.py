"""Is a loopback port free, and who holds it (psutil) - for one-line start-up errors."""

from __future__ import annotations

import errno
import socket

import psutil


def in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when a listening socket holds `host:port` (bound as the servers bind it: with
    SO_REUSEADDR, so connections lingering in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def holder(port: int) -> str | None:
    """`pid 123 (python3 -m http.server 54320)` of the process listening on the port, when this
    user may see it (another user's process is not visible without privileges)."""
    try:
        connections = psutil.net_connections(kind="inet")
    except (psutil.AccessDenied, OSError):
        return None
    for conn in connections:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
            if conn.pid is None:
                return None
            try:
                proc = psutil.Process(conn.pid)
                cmdline = " ".join(proc.cmdline()) or proc.name()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                return f"pid {conn.pid}"
            return f"pid {conn.pid} ({cmdline[:80]})"
    return None
