"""Django's PostgreSQL backend, with a per-request health check that costs no round trip.

With CONN_HEALTH_CHECKS, Django sends `SELECT 1` before the first query of every request that reuses
a connection: on the click redirect, which is one statement, it would double the round trips, and it
is invisible to `connection.queries` and to the query-count tests. This backend first looks at what
the client already knows, for free: the connection is open, idle outside a transaction, and the
server has sent nothing since the last answer. A server that ends a session (restart,
`pg_terminate_backend`, `idle_session_timeout`) sends an error and closes the socket, which makes it
readable; so does any other unsolicited message. Only then, or when the connection is not idle, does
Django's own `SELECT 1` run and decide. What neither check can see in advance is a peer that
vanished without a word (a host that died, a firewall that dropped the flow silently): `SELECT 1`
would wait on it exactly as the request's first query does, so it is not checked twice.

Django's other use of `is_usable()`, after an error during a request, still runs `SELECT 1`.
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    # Set by Django's BaseDatabaseWrapper.__init__; django-stubs do not declare them.
    health_check_enabled: bool
    health_check_done: bool

    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and self._quiet_and_idle()
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _quiet_and_idle(self) -> bool:
        """Open, idle outside a transaction, and nothing unread from the server."""
        pgconn = self.connection.pgconn
        if pgconn.status != pq.ConnStatus.OK:
            return False
        if pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return False
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
        return not poller.poll(0)
