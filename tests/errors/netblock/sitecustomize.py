"""Loaded by the offline test's subprocess: every network connection attempt is recorded and refused."""

import os
import socket

LOG = os.environ.get("EVALKIT_TEST_NET_LOG")

if LOG:
    def _refuse(self, address, *args, **kwargs):
        family = getattr(self, "family", None)
        if family in (socket.AF_INET, socket.AF_INET6):
            with open(LOG, "a") as handle:
                handle.write(f"{address}\n")
            raise OSError("network blocked by evalkit's offline test")
        return _original_connect(self, address, *args, **kwargs)

    _original_connect = socket.socket.connect
    socket.socket.connect = _refuse
    socket.socket.connect_ex = lambda self, address: (_refuse(self, address), 0)[1]
    _original_getaddrinfo = socket.getaddrinfo

    def _no_dns(host, *args, **kwargs):
        with open(LOG, "a") as handle:
            handle.write(f"dns:{host}\n")
        raise socket.gaierror("network blocked by evalkit's offline test")

    socket.getaddrinfo = _no_dns
