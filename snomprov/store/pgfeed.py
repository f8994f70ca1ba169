# -*- test-case-name: tests.test_store_postgresql -*-
"""
The PostgreSQL change feed pushed (DESIGN §2): a thread of its own holds a
dedicated connection that C{LISTEN}s on the channel every write moving the
settings version C{NOTIFY}s (at its commit), and tells the reactor's thread.

L{NotifyListener} only says "something changed" (with the notifications'
payloads) and "listening / not listening": what changed is read from the
feed's table by the store
(L{snomprov.store.sql.SQLDeviceStore}), so a notification lost while the
connection was down costs nothing but a read when it is back.  A broken
connection is retried every C{retryDelay} seconds, for as long as the
listener runs.
"""

from __future__ import annotations

import threading
from typing import Callable

__all__ = ["NotifyListener"]


class NotifyListener:
    """
    C{LISTEN} on one channel in a thread, telling the reactor.

    @ivar listening: whether the connection is up and listening (read in
        the reactor's thread, set there).
    """

    def __init__(self, connect: Callable[[], object], channel: str, reactor,
                 notified: Callable[[], None], up: Callable[[], None], down: Callable[[Exception], None],
                 retryDelay: float = 1.0, wait: float = 0.5) -> None:
        """
        @param connect: makes a new autocommit psycopg connection (in the
            listener's thread).
        @param notified: called in the reactor's thread after one or more
            notifications arrived, with their payloads.
        @param up: called there once listening (again).
        @param down: called there with the exception when the connection
            broke or could not be made, once per loss.
        @param wait: how long the thread waits for notifications before
            looking whether it is to stop.
        """
        self._connect = connect
        self._channel = channel
        self._reactor = reactor
        self._notified = notified
        self._up = up
        self._down = down
        self.retryDelay = retryDelay
        self._wait = wait
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"LISTEN {self._channel}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """
        Stop listening; the thread ends within C{wait} seconds, and calls
        nothing more.
        """
        self._stopping.set()

    def _tell(self, call: Callable, *args) -> None:
        if not self._stopping.is_set():
            self._reactor.callFromThread(self._unlessStopped, call, *args)

    def _unlessStopped(self, call: Callable, *args) -> None:
        if not self._stopping.is_set():
            call(*args)

    def _run(self) -> None:
        wasUp = None
        while not self._stopping.is_set():
            connection = None
            try:
                connection = self._connect()
                connection.execute(f"LISTEN {self._channel}")
                wasUp = True
                self._tell(self._up)
                while not self._stopping.is_set():
                    payloads = [n.payload for n in connection.notifies(timeout=self._wait)]
                    if payloads:
                        self._tell(self._notified, payloads)
            except Exception as e:
                if wasUp is not False:
                    self._tell(self._down, e)
                wasUp = False
            finally:
                if connection is not None:
                    try:
                        connection.close()
                    except Exception:
                        pass
            self._stopping.wait(self.retryDelay)
