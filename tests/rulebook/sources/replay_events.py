"""Test-only event source: puts the events of a JSON file on the queue, then lingers and ends.

Lets the real rulebook's conditions be exercised by the real ansible-rulebook without HTTP."""

import asyncio
import json


async def main(queue, args):
    with open(args["file"], encoding="utf-8") as handle:
        events = json.load(handle)
    for event in events:
        await queue.put(event)
    await asyncio.sleep(float(args.get("linger", 1.5)))
