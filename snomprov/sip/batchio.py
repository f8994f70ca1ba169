# -*- test-case-name: tests.test_sip_batchio -*-
"""
Many UDP datagrams per system call on Linux: C{recvmmsg} and C{sendmmsg}
through C{ctypes}, on an IPv4 socket.

L{BatchIO.receive} reads up to C{count} datagrams into preallocated buffers
with one call; L{BatchIO.send} writes a list of datagrams with one call.
L{BatchIO.create} returns C{None} where this cannot work (not Linux, no
C{recvmmsg} in the C library, not an IPv4 socket): the caller then keeps to
C{recvfrom} and C{sendto}.
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket
import sys

__all__ = ["BatchIO"]


class _IOVec(ctypes.Structure):
    # iov_base as c_char_p: assigning a bytes object points at its buffer
    # (and keeps a reference to it) without copying.
    _fields_ = [("iov_base", ctypes.c_char_p), ("iov_len", ctypes.c_size_t)]


class _MsgHdr(ctypes.Structure):
    _fields_ = [
        ("msg_name", ctypes.c_void_p),
        ("msg_namelen", ctypes.c_uint32),
        ("msg_iov", ctypes.POINTER(_IOVec)),
        ("msg_iovlen", ctypes.c_size_t),
        ("msg_control", ctypes.c_void_p),
        ("msg_controllen", ctypes.c_size_t),
        ("msg_flags", ctypes.c_int),
    ]


class _MMsgHdr(ctypes.Structure):
    _fields_ = [("msg_hdr", _MsgHdr), ("msg_len", ctypes.c_uint)]


_SOCKADDR_IN = 16  # sizeof(struct sockaddr_in)
_MMSGHDR = ctypes.sizeof(_MMsgHdr)
_AGAIN = (errno.EAGAIN, errno.EWOULDBLOCK)
_libc = None


def _functions():
    """
    C{recvmmsg} and C{sendmmsg} from the C library, or C{None}.
    """
    global _libc
    if _libc is None:
        _libc = False
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                recv, send = libc.recvmmsg, libc.sendmmsg
            except (OSError, AttributeError):
                return None
            recv.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_void_p)
            recv.restype = ctypes.c_int
            send.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int)
            send.restype = ctypes.c_int
            _libc = (recv, send)
    return _libc or None


def _vectors(count: int, size: int):
    """
    C{count} message headers, each with one I/O vector and a
    C{sockaddr_in}, and when C{size} a buffer of C{size} bytes.
    """
    headers = (_MMsgHdr * count)()
    iovecs = (_IOVec * count)()
    names = ctypes.create_string_buffer(_SOCKADDR_IN * count)
    buffers = ctypes.create_string_buffer(size * count) if size else None
    namesAt = ctypes.addressof(names)
    for i in range(count):
        header = headers[i].msg_hdr
        header.msg_name = namesAt + i * _SOCKADDR_IN
        header.msg_namelen = _SOCKADDR_IN
        header.msg_iov = ctypes.pointer(iovecs[i])
        header.msg_iovlen = 1
        if buffers is not None:
            # The receiving vectors point into the buffers; c_char_p takes
            # no address, so the field is set through its raw memory.
            ctypes.c_void_p.from_buffer(iovecs[i]).value = ctypes.addressof(buffers) + i * size
            iovecs[i].iov_len = size
    return headers, iovecs, names, buffers


class BatchIO:
    """
    C{recvmmsg}/C{sendmmsg} on one non-blocking IPv4 UDP socket.

    @ivar count: datagrams read or written per call at most.
    """

    maxAddresses = 4096

    def __init__(self, fd: int, count: int, size: int, functions) -> None:
        self._fd = fd
        self.count = count
        self._size = size
        self._recvmmsg, self._sendmmsg = functions
        self._in = _vectors(count, size)
        self._out = _vectors(count, 0)
        self._inNames = memoryview(self._in[2]).cast("B")
        self._inData = memoryview(self._in[3]).cast("B")
        self._outNames = memoryview(self._out[2]).cast("B")
        # msg_len of message i is the uint32 at index i * stride + offset.
        stride, offset = _MMSGHDR, _MMsgHdr.msg_len.offset
        assert stride % 4 == 0 and offset % 4 == 0
        self._lengths = memoryview(self._in[0]).cast("B").cast("I")
        self._lengthAt = [(i * stride + offset) // 4 for i in range(count)]
        self._addresses: dict[bytes, tuple[str, int]] = {}
        self._sockaddrs: dict[tuple[str, int], bytes] = {}

    @classmethod
    def create(cls, sock: socket.socket, count: int = 64, size: int = 8192) -> "BatchIO | None":
        """
        A L{BatchIO} on C{sock}, or C{None} where it cannot work.
        """
        functions = _functions()
        if functions is None or sock.family != socket.AF_INET or sock.type != socket.SOCK_DGRAM:
            return None
        return cls(sock.fileno(), count, size, functions)

    def receive(self) -> list[tuple[bytes, tuple[str, int]]]:
        """
        The datagrams waiting, up to C{count}, with their sources: empty
        when none is waiting.  A datagram longer than C{size} is cut, as
        C{recvfrom(size)} would.

        @raise OSError: for an error other than none waiting.
        """
        headers = self._in[0]
        while True:
            n = self._recvmmsg(self._fd, headers, self.count, socket.MSG_DONTWAIT, None)
            if n >= 0:
                break
            code = ctypes.get_errno()
            if code == errno.EINTR:
                continue
            if code in _AGAIN or code == errno.ECONNREFUSED:
                return []
            raise OSError(code, os.strerror(code))
        lengths, at = self._lengths, self._lengthAt
        data, names, size = self._inData, self._inNames, self._size
        addresses = self._addresses
        received = []
        for i in range(n):
            start = i * size
            key = names[i * _SOCKADDR_IN : i * _SOCKADDR_IN + 8].tobytes()
            address = addresses.get(key)
            if address is None:
                address = (socket.inet_ntoa(key[4:8]), int.from_bytes(key[2:4], "big"))
                if len(addresses) >= self.maxAddresses:
                    addresses.clear()
                addresses[key] = address
            received.append((data[start : start + lengths[at[i]]].tobytes(), address))
        return received

    def send(self, datagrams: list[tuple[bytes, tuple[str, int]]]) -> list[tuple[bytes, tuple[str, int]]]:
        """
        Send C{datagrams}, C{count} per call.

        @return: the datagrams not sent: to an address that is not an IPv4
            literal, or refused by the kernel (the caller sends them one by
            one, which reports why).
        """
        unsent: list[tuple[bytes, tuple[str, int]]] = []
        count = self.count
        for start in range(0, len(datagrams), count):
            self._sendSome(datagrams[start : start + count], unsent)
        return unsent

    def _sendSome(self, datagrams, unsent) -> None:
        headers, iovecs = self._out[0], self._out[1]
        names, sockaddrs = self._outNames, self._sockaddrs
        batch = []
        for item in datagrams:
            data, address = item
            sockaddr = sockaddrs.get(address)
            if sockaddr is None:
                try:
                    sockaddr = _sockaddr(address)
                except (OSError, TypeError, ValueError, OverflowError):
                    unsent.append(item)
                    continue
                if len(sockaddrs) >= self.maxAddresses:
                    sockaddrs.clear()
                sockaddrs[address] = sockaddr
            n = len(batch)
            names[n * _SOCKADDR_IN : (n + 1) * _SOCKADDR_IN] = sockaddr
            iovec = iovecs[n]
            iovec.iov_base = data
            iovec.iov_len = len(data)
            batch.append(item)
        n, sent = len(batch), 0
        while sent < n:
            done = self._sendmmsg(self._fd, ctypes.byref(headers, sent * _MMSGHDR), n - sent, 0)
            if done > 0:
                sent += done
            elif ctypes.get_errno() != errno.EINTR:
                # The datagram at `sent` was refused: the caller retries it.
                unsent.append(batch[sent])
                sent += 1
        for i in range(n):
            iovecs[i].iov_base = None  # let go of the datagrams


def _sockaddr(address: tuple[str, int]) -> bytes:
    """
    The C{struct sockaddr_in} of an IPv4 literal and a port.
    """
    host, port = address
    return (socket.AF_INET.to_bytes(2, sys.byteorder) + port.to_bytes(2, "big")
            + socket.inet_pton(socket.AF_INET, host) + bytes(8))
