"""Regenerate ``k8s_protobuf_fields.json``, the field numbers of the Kubernetes API types, from a kubectl binary.

kubectl (and every Go program built on k8s.io/api) registers the gzipped ``FileDescriptorProto`` of each
``generated.proto`` it was compiled with; the bytes sit in the binary as they are. This finds them, keeps the GA
API groups and apimachinery's shared types, and writes per message its fields: number, JSON name, type, and
whether it repeats or is a Go pointer (gogoproto ``nullable`` not false: a zero value was set on purpose).

    python -m airflow_provider_sparkk8s.testing.kubectl_descriptors [path/to/kubectl]

Run it with the kubectl whose version the emulator serves (``/version``) and commit the JSON it writes.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import zlib
from pathlib import Path

from .protobuf_wire import as_bytes, as_int, as_str, fields

OUTPUT = Path(__file__).with_name("k8s_protobuf_fields.json")
GZIP_MAGIC = b"\x1f\x8b\x08\x00\x00\x00\x00\x00"
KEPT_FILES = re.compile(r"^k8s\.io/(api/[a-z]+/v\d+|apimachinery/pkg/(apis/meta/v1|runtime|runtime/schema|"
                        r"api/resource|util/intstr))/generated\.proto$")
SCALARS = {1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 6: "fixed64", 7: "fixed32", 8: "bool",
           9: "string", 12: "bytes", 13: "uint32", 15: "sfixed32", 16: "sfixed64", 17: "sint32", 18: "sint64"}
GOGO_NULLABLE = 65001
# A few fields are named after their Go field in the .proto; their JSON names start lower case
# but for these.
CAPITALISED_JSON = {("k8s.io.api.core.v1.DaemonEndpoint", "Port"),
                    ("k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1", "Raw")}
LABEL_REPEATED = 3
TYPE_MESSAGE = 11


def gzipped_descriptors(binary: bytes) -> list[bytes]:
    """Every gzip stream in the binary that holds a FileDescriptorProto."""
    found = []
    for match in re.finditer(re.escape(GZIP_MAGIC), binary):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = inflater.decompress(binary[match.start():match.start() + 4_000_000])
        except zlib.error:
            continue
        if inflater.eof and data[:1] == b"\x0a":  # field 1 (name), length-delimited
            found.append(data)
    return found


def _field(raw: bytes) -> list:
    name, number, label, type_, type_name, nullable = "", 0, 1, 0, "", True
    for num, _, value in fields(raw):
        if num == 1:
            name = as_str(value)
        elif num == 3:
            number = as_int(value)
        elif num == 4:
            label = as_int(value)
        elif num == 5:
            type_ = as_int(value)
        elif num == 6:
            type_name = as_str(value).lstrip(".")
        elif num == 8:
            nullable = all(not (n == GOGO_NULLABLE and v == 0) for n, _, v in fields(as_bytes(value)))
    flags = ("r" if label == LABEL_REPEATED else "") + ("p" if nullable and label != LABEL_REPEATED else "")
    return [number, name, type_name if type_ == TYPE_MESSAGE else SCALARS.get(type_, "int64"), flags]


def _messages(raw: bytes, prefix: str, out: dict[str, list], map_entries: list[str]) -> None:
    name, field_list, nested = "", [], []
    for num, _, value in fields(raw):
        if num == 1:
            name = as_str(value)
        elif num == 2:
            field_list.append(_field(as_bytes(value)))
        elif num == 3:
            nested.append(as_bytes(value))
        elif num == 7 and any(n == 7 and v for n, _, v in fields(as_bytes(value))):
            map_entries.append(f"{prefix}.{name}")  # MessageOptions.map_entry
    full = f"{prefix}.{name}"
    for f in field_list:
        if (full, f[1]) not in CAPITALISED_JSON:
            f[1] = f[1][:1].lower() + f[1][1:]
    out[full] = sorted(field_list)
    for child in nested:
        _messages(child, full, out, map_entries)


def field_map(binary: bytes) -> dict:
    messages: dict[str, list] = {}
    map_entries: list[str] = []
    files = []
    for descriptor in gzipped_descriptors(binary):
        name, package, bodies = "", "", []
        for num, _, value in fields(descriptor):
            if num == 1:
                name = as_str(value)
            elif num == 2:
                package = as_str(value)
            elif num == 4:
                bodies.append(as_bytes(value))
        if not KEPT_FILES.match(name):
            continue
        files.append(name)
        for body in bodies:
            _messages(body, package, messages, map_entries)
    return {"files": sorted(files), "mapEntries": sorted(map_entries), "messages": dict(sorted(messages.items()))}


def write(table: dict, path: Path = OUTPUT) -> None:
    """One message per line, so a regeneration reads as a reviewable diff."""
    lines = ['{"files": ' + json.dumps(table["files"]) + ",", ' "mapEntries": ' + json.dumps(table["mapEntries"]) + ",",
             ' "messages": {']
    items = list(table["messages"].items())
    for i, (name, field_list) in enumerate(items):
        sep = "," if i < len(items) - 1 else ""
        lines.append(f"  {json.dumps(name)}: {json.dumps(field_list, separators=(',', ':'))}{sep}")
    lines.append("}}")
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str]) -> int:
    kubectl = argv[0] if argv else shutil.which("kubectl")
    if not kubectl:
        print("usage: python -m airflow_provider_sparkk8s.testing.kubectl_descriptors [path/to/kubectl]")
        return 2
    table = field_map(Path(kubectl).read_bytes())
    if not table["messages"]:
        print(f"no Kubernetes descriptors found in {kubectl}")
        return 1
    write(table)
    print(f"{len(table['messages'])} messages from {len(table['files'])} files written to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
