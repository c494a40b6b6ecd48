"""Hostile payloads built at test time: compression bombs, a self-signed certificate, an HTTP/2-only peer.

Bombs are streamed, never materialised: a deflate/brotli stream of zeros reaches a steady state in
which each further megabyte of zeros compresses to the very same bytes, so the server repeats one
small block (gzip ~1 KB per MiB, brotli ~13 bytes per MiB). The zstd bomb is written by hand from
RFC 8878 §3.1.1.2: an RLE block holds one byte repeated up to 128 KiB, four bytes on the wire.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import struct
import subprocess
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import brotli

MIB = 1 << 20


@dataclass(frozen=True)
class Bomb:
    head: bytes  # sent once
    block: bytes  # repeated; each repetition decodes to ``block_decoded`` bytes
    block_decoded: int

    def ratio(self) -> float:
        return self.block_decoded / len(self.block)


@functools.cache
def gzip_bomb() -> Bomb:
    zeros = bytes(MIB)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = comp.compress(zeros) + comp.flush(zlib.Z_SYNC_FLUSH)
    block = comp.compress(zeros) + comp.flush(zlib.Z_SYNC_FLUSH)
    again = comp.compress(zeros) + comp.flush(zlib.Z_SYNC_FLUSH)
    assert block == again, "deflate did not reach a steady state"
    # RFC 1952 member header: magic, CM=8 (deflate), no flags, mtime 0, XFL 2, OS 255.
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return Bomb(head=header + first, block=block, block_decoded=MIB)


@functools.cache
def brotli_bomb() -> Bomb:
    zeros = bytes(MIB)
    comp = brotli.Compressor(quality=5)
    first = comp.process(zeros) + comp.flush()
    block = comp.process(zeros) + comp.flush()
    again = comp.process(zeros) + comp.flush()
    assert block == again, "brotli did not reach a steady state"
    return Bomb(head=first, block=block, block_decoded=MIB)


@functools.cache
def zstd_bomb() -> Bomb:
    # Frame: magic, Frame_Header_Descriptor 0 (no content size, no checksum), Window_Descriptor
    # exponent 7 -> 2**17 = 128 KiB window. Block header: Block_Size << 3 | Block_Type(RLE=1) << 1.
    header = struct.pack("<I", 0xFD2FB528) + bytes([0x00, 7 << 3])
    rle = ((128 * 1024) << 3 | 1 << 1).to_bytes(3, "little") + b"\x00"
    return Bomb(head=header, block=rle * 256, block_decoded=256 * 128 * 1024)


@functools.cache
def self_signed_cert() -> tuple[str, str]:
    """(certfile, keyfile) for CN/SAN 127.0.0.1, made with the openssl CLI (no extra Python package)."""
    tmp = Path(tempfile.mkdtemp(prefix="apiaudit-hostile-tls-"))
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return str(cert), str(key)


def tls_context(alpn: list[str] | None = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert, key = self_signed_cert()
    ctx.load_cert_chain(cert, key)
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


async def h2_only(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: object) -> None:
    """Speak HTTP/2 (prior knowledge or ALPN h2) and nothing else: an HTTP/1.1 client gets a GOAWAY."""
    import h2.config
    import h2.connection
    import h2.events
    import h2.exceptions

    from .rawserver import RawServer

    assert isinstance(server, RawServer)
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False))
    conn.initiate_connection()
    writer.write(conn.data_to_send())
    body = b'{"items": [], "note": "http/2 only"}'
    while True:
        data = await reader.read(65536)
        if not data:
            return
        try:
            events = conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            writer.write(conn.data_to_send())
            await writer.drain()
            return
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                hdrs = {k.decode() if isinstance(k, bytes) else k: v for k, v in event.headers}
                method = hdrs.get(":method", "")
                method = method.decode() if isinstance(method, bytes) else method
                server.counters.requests += 1
                server.counters.methods[method] += 1
                conn.send_headers(
                    event.stream_id,
                    [
                        (":status", "200"),
                        ("content-type", "application/json"),
                        ("content-length", str(len(body))),
                    ],
                )
                conn.send_data(event.stream_id, body, end_stream=True)
        writer.write(conn.data_to_send())
        await writer.drain()
