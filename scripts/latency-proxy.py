#!/usr/bin/env python3
"""A TCP proxy on loopback that delays every byte by a fixed one-way latency, each way.

Benchmarks use it to show what a command's round trips cost on a network rather than on
loopback, where a round trip is nearly free: a request and its answer each wait DELAY_MS,
so one round trip costs twice that. Bytes keep their order and are never held back more
than DELAY_MS, so a command that streams or pipelines is not charged per packet.

Usage: latency-proxy.py LISTEN_PORT TARGET_PORT DELAY_MS. Prints `ready PORT` once it
listens (LISTEN_PORT 0 picks a free port).
"""
import asyncio
import sys


async def pipe(reader, writer, delay):
    """Copies reader to writer, each chunk sent `delay` seconds after it arrived."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def read():
        while data := await reader.read(65536):
            await queue.put((loop.time() + delay, data))
        await queue.put((loop.time() + delay, b""))

    reading = asyncio.ensure_future(read())
    try:
        while True:
            due, data = await queue.get()
            await asyncio.sleep(max(0.0, due - loop.time()))
            if not data:
                break
            writer.write(data)
            await writer.drain()
    finally:
        reading.cancel()
        writer.close()


async def main(listen, target, delay):
    async def serve(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            pipe(client_reader, server_writer, delay),
            pipe(server_reader, client_writer, delay),
            return_exceptions=True,
        )

    server = await asyncio.start_server(serve, "127.0.0.1", listen)
    print("ready", server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: latency-proxy.py LISTEN_PORT TARGET_PORT DELAY_MS")
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000))
