"""A TCP relay on 127.0.0.1 that delays every chunk by a fixed time, for the fleet benchmark's latency run.

    python bench/delay_proxy.py DELAY_MS TARGET_PORT [TARGET_PORT ...]

For each target port on 127.0.0.1 it listens on a free loopback port and prints "LISTEN TARGET" per line,
then "READY". Each chunk, in either direction, is forwarded DELAY_MS after it arrived (order kept), so a
round trip takes 2 x DELAY_MS longer: what a distant host looks like. Used where the kernel has no netem
(sch_netem cannot be loaded in this sandbox). Runs until killed.
"""

from __future__ import annotations

import asyncio
import sys


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    async def send() -> None:
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                writer.close()
                return
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(send())
    try:
        while data := await reader.read(65536):
            queue.put_nowait((loop.time() + delay, data))
    finally:
        queue.put_nowait((loop.time() + delay, None))
        await sender


async def serve(target: int, delay: float) -> int:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, up_writer, delay), pipe(up_reader, writer, delay), return_exceptions=True)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server.sockets[0].getsockname()[1]


async def main(delay_ms: int, targets: list[int]) -> None:
    for target in targets:
        print(await serve(target, delay_ms / 1000), target, flush=True)
    print("READY", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), [int(p) for p in sys.argv[2:]]))
