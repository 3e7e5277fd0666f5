"""Hostile HTTP receivers on real sockets on 127.0.0.1: each connection gets one scripted misbehaviour."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable

Behaviour = Callable[[socket.socket, "HostileServer"], None]


class HostileServer:
    """Accepts connections, reads each request, then runs ``behaviour`` on the socket."""

    def __init__(self, behaviour: Behaviour, host: str = "127.0.0.1", port: int = 0):
        self.behaviour = behaviour
        self.stopping = threading.Event()
        self.requests: list[bytes] = []
        self.open_connections = 0
        self.max_open_connections = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server((host, port))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.host = host
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with self._lock:
            self.open_connections += 1
            self.max_open_connections = max(self.max_open_connections, self.open_connections)
        try:
            request = read_request(conn)
            with self._lock:
                self.requests.append(request)
            self.behaviour(conn, self)
        except OSError:
            pass  # the client gave up, as it should
        finally:
            with self._lock:
                self.open_connections -= 1
            try:
                conn.close()
            except OSError:
                pass

    def stop(self) -> None:
        self.stopping.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)


def read_request(conn: socket.socket) -> bytes:
    conn.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


# --- Behaviours ---------------------------------------------------------------------------------------------


def hang(conn: socket.socket, server: HostileServer) -> None:
    """Accept the request and never answer."""
    server.stopping.wait()


def drip_headers(conn: socket.socket, server: HostileServer) -> None:
    """Slow-loris: a status line, then one byte of header every 0.2 s, forever."""
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    while not server.stopping.wait(0.2):
        conn.sendall(b"X")


def drip_body(conn: socket.socket, server: HostileServer) -> None:
    """A 200 whose announced megabyte of body comes one byte every 0.2 s."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
    while not server.stopping.wait(0.2):
        conn.sendall(b"x")


def gigabyte(conn: socket.socket, server: HostileServer) -> None:
    """A 200 announcing 1 GB of body, sent as fast as the client takes it."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n")
    block = b"y" * 65536
    for _ in range(1_000_000_000 // len(block)):
        if server.stopping.is_set():
            return
        conn.sendall(block)


def endless_chunks(conn: socket.socket, server: HostileServer) -> None:
    """A 200 with a chunked body that never ends."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (8192, b"z" * 8192)
    while not server.stopping.is_set():
        conn.sendall(chunk)


def reset_mid_response(conn: socket.socket, server: HostileServer) -> None:
    """Headers and a few bytes of a 500, then a TCP reset."""
    conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 1000\r\n\r\npartial")
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def not_http(conn: socket.socket, server: HostileServer) -> None:
    """Something that is not HTTP at all."""
    conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\nthis is not http\r\n\r\n")


def not_utf8(conn: socket.socket, server: HostileServer) -> None:
    """A 200 whose body is not UTF-8."""
    body = b"\xff\xfe caf\xe9 \x80"
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))


def redirect_loop(conn: socket.socket, server: HostileServer) -> None:
    """A redirect to itself."""
    location = server.url("/hook").encode()
    conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" % location)


# --- Poison answers: what a database or a parser may choke on -------------------------------------------------


def nul_in_body(conn: socket.socket, server: HostileServer) -> None:
    """A 200 whose body ends in a NUL byte."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\x00")


def nul_in_header(conn: socket.socket, server: HostileServer) -> None:
    """A 200 with a NUL byte inside a header's value."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Trace: a\x00b\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")


def nul_in_reason(conn: socket.socket, server: HostileServer) -> None:
    """A 500 whose reason phrase holds a NUL byte."""
    conn.sendall(b"HTTP/1.1 500 Bro\x00ken\r\nContent-Length: 4\r\nConnection: close\r\n\r\nfail")


def gzip_bomb(conn: socket.socket, server: HostileServer) -> None:
    """A 200 whose gzip body would inflate to a gigabyte of zeros (about 1 MB on the wire)."""
    import zlib

    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n")
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip container
    zeros = bytes(1 << 20)
    for _ in range(1024):
        if server.stopping.is_set():
            return
        data = packer.compress(zeros)
        if data:
            conn.sendall(data)
    conn.sendall(packer.flush())


def headers_cut(conn: socket.socket, server: HostileServer) -> None:
    """A status line and half a header, then the connection closes: the head never completes."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Len")


def status_line_only(conn: socket.socket, server: HostileServer) -> None:
    """A status line and nothing after it: no headers, no blank line."""
    conn.sendall(b"HTTP/1.1 200 OK\r\n")


def short_body(conn: socket.socket, server: HostileServer) -> None:
    """A complete 200 head announcing 100 bytes, 5 sent, then the connection closes."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
