#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The proxy lab's destination servers, run inside the lab's server namespace: static HTTP and HTTPS,
# git smart HTTP (git http-backend) and a stand-in metadata service; every request is logged.
"""Usage: lab_servers.py ROOT LOG CERT KEY

Listens on the addresses real_clients_test.py put on the namespace's interface:
  198.51.100.7:80 and :443   ROOT/www (web.test, pypi.test, files.test)
  198.51.100.8:80            git smart HTTP over ROOT/git (git.test)
  203.0.113.9:80             ROOT/www (other.test, never granted)
  169.254.169.254:80         ROOT/www (metadata.test: must never be reached by default)
  168.63.129.16:80, [fd00:ec2::254]:80   ROOT/www (azure.test, ec2v6.test: the same)
  198.51.100.53:53/udp       DNS: A queries for rebind.test alternate 198.51.100.7 and 127.0.0.1
Every request is appended to LOG as "ADDRESS:PORT METHOD PATH". Prints "ready" when all listen.
"""
import functools
import http.server
import os
import socket
import socketserver
import ssl
import struct
import subprocess
import sys
import threading

ROOT, LOG, CERT, KEY = sys.argv[1:5]
log_lock = threading.Lock()


def note(server, method, path):
    host, port = server.server_address[:2]
    with log_lock, open(LOG, "a") as f:
        f.write(f"{host}:{port} {method} {path}\n")


class Static(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_head(self):
        note(self.server, self.command, self.path)
        return super().send_head()


class GitSmart(http.server.BaseHTTPRequestHandler):
    """git http-backend as CGI: enough of RFC 3875 for clone and fetch."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.cgi()

    def do_POST(self):
        self.cgi()

    def cgi(self):
        note(self.server, self.command, self.path)
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": os.path.join(ROOT, "git"),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
        }
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        out = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = out.partition(b"\n\n")
        status = "200 OK"
        headers = []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = value.strip()
            elif name:
                headers.append((name, value.strip()))
        code, _, text = status.partition(" ")
        self.send_response(int(code), text)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)


class Server(http.server.ThreadingHTTPServer):
    def server_bind(self):
        # HTTPServer would look its own address up in DNS (getfqdn), and the lab has no DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        pass  # clients cut off by the proxy's limits are expected here


class Server6(Server):
    address_family = socket.AF_INET6


def serve(address, port, handler, tls=False):
    server = (Server6 if ":" in address else Server)((address, port), handler)
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(CERT, KEY)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()


def dns(address):
    """A rebinding DNS server: every other A answer for rebind.test is 127.0.0.1; others get NXDOMAIN."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, 53))
    answers = 0

    def loop():
        nonlocal answers
        while True:
            query, peer = sock.recvfrom(512)
            if len(query) < 12:
                continue
            qid = query[:2]
            labels, i = [], 12
            while i < len(query) and query[i] != 0:
                labels.append(query[i + 1:i + 1 + query[i]].decode("ascii", "replace"))
                i += 1 + query[i]
            question = query[12:i + 5]
            qtype = struct.unpack("!H", query[i + 1:i + 3])[0] if i + 3 <= len(query) else 0
            name = ".".join(labels).lower()
            with log_lock, open(LOG, "a") as f:
                f.write(f"dns {qtype} {name}\n")
            if name != "rebind.test":
                sock.sendto(qid + b"\x81\x83\x00\x01\x00\x00\x00\x00\x00\x00" + question, peer)
                continue
            if qtype != 1:  # AAAA and the rest: no data
                sock.sendto(qid + b"\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00" + question, peer)
                continue
            ip = "198.51.100.7" if answers % 2 == 0 else "127.0.0.1"
            answers += 1
            record = b"\xc0\x0c\x00\x01\x00\x01" + struct.pack("!IH", 0, 4) + socket.inet_aton(ip)
            sock.sendto(qid + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00" + question + record, peer)

    threading.Thread(target=loop, daemon=True).start()


def main():
    static = functools.partial(Static, directory=os.path.join(ROOT, "www"))
    serve("198.51.100.7", 80, static)
    serve("198.51.100.7", 443, static, tls=True)
    serve("198.51.100.8", 80, GitSmart)
    serve("203.0.113.9", 80, static)
    serve("169.254.169.254", 80, static)
    serve("168.63.129.16", 80, static)
    serve("fd00:ec2::254", 80, static)
    dns("198.51.100.53")
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
