"""Ports and sockets for tests that run real servers on loopback."""

import asyncio
import socket
import time


def free_port(host="127.0.0.1"):
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


async def wait_for_port(port, host="127.0.0.1", timeout=5.0):
    """Wait until something listens on ``host:port`` (a server started in the same event loop)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            _reader, writer = await asyncio.open_connection(host, port)
            writer.close()
            await writer.wait_closed()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.02)


def wait_for_port_sync(port, host="127.0.0.1", timeout=25.0, alive=None):
    """Wait until something listens on ``host:port``; ``alive()`` False (the process died) stops early.
    Returns True when listening, False when it died or the time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.2).close()
            return True
        except OSError:
            if alive is not None and not alive():
                return False
            time.sleep(0.05)
    return False
