"""Loaded by every Python process the tests start (PYTHONPATH): no network but loopback.

Tutorial scripts, notebook kernels and ``mkdocs build`` run in subprocesses; this makes any
attempt of theirs to reach another host fail at once with `OfflineError`, so a test passes
only if the code it runs works offline. Unix sockets and loopback stay open (Jupyter kernels
talk to their client over loopback).
"""

import ipaddress
import socket


class OfflineError(OSError):
    """Raised instead of opening a connection to a host other than this machine."""


def check_address(address) -> None:
    if not isinstance(address, tuple):  # AF_UNIX path
        return
    host = address[0]
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        if host == "localhost":
            return
    raise OfflineError(f"network access to {host!r} is blocked in the test suite")


_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def guarded_connect(self, address):
    check_address(address)
    return _connect(self, address)


def guarded_connect_ex(self, address):
    check_address(address)
    return _connect_ex(self, address)


socket.socket.connect = guarded_connect
socket.socket.connect_ex = guarded_connect_ex
