"""Run an event source the way ansible-rulebook loads it, in its own process, for tests that measure it.

    python tests/support/source_process.py <source.py> '<args as JSON>'

``runpy.run_path`` on the file, then ``main(queue, args)`` with a queue that writes each event as one
JSON line on stdout (flushed); the source's log goes to stderr (INFO). Ends on SIGTERM.
"""

import asyncio
import json
import logging
import runpy
import signal
import sys


class LineQueue:
    """What the source sees as its queue: each event becomes a line on stdout."""

    async def put(self, event):
        sys.stdout.write(json.dumps(event, separators=(",", ":")) + "\n")
        sys.stdout.flush()


async def run(path, args):
    source = runpy.run_path(path)
    task = asyncio.create_task(source["main"](LineQueue(), args))
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        pass


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(run(sys.argv[1], json.loads(sys.argv[2])))
