"""The suite runs offline: connections to anything but this machine are refused."""

import socket
import subprocess
import sys

import pytest
from conftest import offline_guard


@pytest.mark.parametrize("host", ["192.0.2.1", "2001:db8::1", "pypi.org"])
def test_guard_refuses_other_hosts(host):
    with pytest.raises(offline_guard.OfflineError, match="blocked"):
        offline_guard.check_address((host, 443))


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_guard_allows_loopback(host):
    offline_guard.check_address((host, 8000))


def test_guard_is_active_here_and_in_subprocesses():
    assert socket.socket.connect.__name__ == "guarded_connect"
    code = "import socket; print(socket.socket.connect.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "guarded_connect"
