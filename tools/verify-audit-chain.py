#!/usr/bin/env python3
"""Checks an export of Tillit's audit log without Tillit, with an independent
RFC 8785 (JSON Canonicalization Scheme) library.

    tillit audit export --output audit.ndjson
    python3 -m venv .venv && .venv/bin/pip install rfc8785==0.1.4
    .venv/bin/python tools/verify-audit-chain.py audit.ndjson [--head SEQ:HASH]

Each line is one event. An event's entry_hash is
SHA-256("tillit/audit/v1\\n" + RFC 8785 of the event without entry_hash); its
prev_hash is the entry_hash of the event before it (64 zeros for the first),
and sequence numbers run 1, 2, 3 ... without gaps. With --head, the export
must contain that saved head (GET /api/v1/audit/head).

Prints a JSON summary. Exit 0: intact; 1: not intact; 2: cannot read.
"""
import hashlib
import json
import sys

import rfc8785

GENESIS = "0" * 64
PREFIX = b"tillit/audit/v1\n"


def check(lines, head=None):
    prev, seq, problems, seen = GENESIS, 0, [], {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        event = json.loads(line)
        stored = event.pop("entry_hash")
        seq += 1
        if event["seq"] != seq:
            problems.append(f"line {number}: seq {event['seq']}, expected {seq}")
            seq = event["seq"]
        if event["prev_hash"] != prev:
            problems.append(f"seq {event['seq']}: prev_hash does not link to the event before")
        computed = hashlib.sha256(PREFIX + rfc8785.dumps(event)).hexdigest()
        if computed != stored:
            problems.append(f"seq {event['seq']}: entry_hash does not match its content")
        seen[event["seq"]] = stored
        prev = stored
    if head is not None:
        head_seq, head_hash = head
        if seen.get(head_seq) != head_hash:
            problems.append(f"the saved head {head_seq}:{head_hash} is not in the log")
    return {"intact": not problems, "events": seq, "head": {"seq": seq, "entry_hash": prev}, "problems": problems[:20]}


def main(argv):
    args = argv[1:]
    head = None
    if "--head" in args:
        at = args.index("--head")
        seq, _, digest = args[at + 1 : at + 2][0].partition(":") if at + 1 < len(args) else ("", "", "")
        if not seq.isdigit() or len(digest) != 64:
            print("--head takes SEQ:HASH (GET /api/v1/audit/head)", file=sys.stderr)
            return 2
        head = (int(seq), digest)
        del args[at : at + 2]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(args[0], encoding="utf-8") as f:
            report = check(f, head)
    except (OSError, ValueError, KeyError) as e:
        print(f"cannot read {args[0]}: {e}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2))
    return 0 if report["intact"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
