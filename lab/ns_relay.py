#!/usr/bin/env python3
"""Lab fixture: a TCP relay from the webhook namespace to the host's loopback.

Nautobot refuses webhook URLs on loopback, so the lab gives the event source an address in a network
namespace (10.213.7.2). The rulebook daemon and the playbooks it runs must stay in the host's namespace
(they talk to Nautobot and the simulated devices on 127.0.0.0/8), so this relay listens *inside* the
namespace and forwards each connection to the event source on the host's loopback:

    Nautobot (host) -> 10.213.7.2:5000 (namespace) -> relay -> 127.0.0.1:5000 (host, event source)

One process: it enters the namespace with setns(2) only to create its listening socket, then returns
to the host namespace, where every outgoing socket is made. Needs root (CAP_SYS_ADMIN).
    ns_relay.py --netns sotsync-lab --listen 10.213.7.2:5000 --target 127.0.0.1:5000
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import os
import signal
import socket

CLONE_NEWNET = 0x40000000


def _setns(path: str) -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({path}): {os.strerror(err)}")
    finally:
        os.close(fd)


def listen_in_netns(netns: str, host: str, port: int) -> socket.socket:
    """A listening socket bound inside ``netns``; the caller stays in its own namespace."""
    home = f"/proc/{os.getpid()}/task/{os.getpid()}/ns/net"
    home_fd = os.open(home, os.O_RDONLY)
    try:
        _setns(f"/var/run/netns/{netns}")
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(128)
            sock.setblocking(False)
        finally:
            _setns(f"/proc/self/fd/{home_fd}")
    finally:
        os.close(home_fd)
    return sock


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def serve(sock: socket.socket, target: tuple[str, int]) -> None:
    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        peer = client_w.get_extra_info("peername")
        try:
            up_r, up_w = await asyncio.wait_for(asyncio.open_connection(*target), timeout=5)
        except (OSError, TimeoutError) as exc:
            print(f"relay: {peer} -> {target[0]}:{target[1]} failed: {exc}", flush=True)
            client_w.close()
            return
        await asyncio.gather(_pipe(client_r, up_w), _pipe(up_r, client_w))

    server = await asyncio.start_server(handle, sock=sock)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"relay ready: {sock.getsockname()[0]}:{sock.getsockname()[1]} -> {target[0]}:{target[1]}", flush=True)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--netns", required=True)
    parser.add_argument("--listen", required=True, help="address:port inside the namespace")
    parser.add_argument("--target", required=True, help="address:port in the host namespace")
    args = parser.parse_args()
    lhost, lport = args.listen.rsplit(":", 1)
    thost, tport = args.target.rsplit(":", 1)
    sock = listen_in_netns(args.netns, lhost, int(lport))
    asyncio.run(serve(sock, (thost, int(tport))))


if __name__ == "__main__":
    main()
