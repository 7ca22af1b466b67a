"""Writes the seed corpus for both fuzz targets from events/: each sample event whole (event_reader) and each
of its ResourceProperties and OldResourceProperties (properties), plus a few hostile shapes the samples lack."""

import json
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
out = Path(sys.argv[1])
events = sorted((root / "events").glob("*.json"))
(out / "event_reader").mkdir(parents=True, exist_ok=True)
(out / "properties").mkdir(parents=True, exist_ok=True)
for path in events:
    event = json.loads(path.read_text())
    (out / "event_reader" / path.name).write_text(json.dumps(event))
    for key in ("ResourceProperties", "OldResourceProperties"):
        if key in event:
            (out / "properties" / f"{path.stem}-{key}.json").write_text(json.dumps(event[key]))
create = json.loads((root / "events" / "create.json").read_text())
hostile = {
    "deep.json": json.dumps({**create, "ResourceProperties": "@"}).replace('"@"', "[" * 200 + "]" * 200),
    "unknown-type.json": json.dumps({**create, "RequestType": "Replace"}),
    "no-url.json": json.dumps({k: v for k, v in create.items() if k != "ResponseURL"}),
    "numbers.json": json.dumps({**create, "RequestId": 7, "StackId": None}),
}
for name, text in hostile.items():
    (out / "event_reader" / name).write_text(text)
