"""The SPDY/3 framing of kubectl port-forward (testing/spdy.py), checked against bytes kubectl itself wrote.

The bytes below are the first frames kubectl 1.32 sent for one connection to its local port (its -v=8 log prints
what it writes): a SYN_STREAM for the error stream, its FIN (kubectl never writes on that stream), and a
SYN_STREAM for the data stream. Go's framer and zlib made them; the second SYN_STREAM's header block is only
decodable with the zlib stream the first one started, as SPDY keeps one per direction. kubectl reading what the
server writes is tests/sandbox/test_kubectl_port_forward.py.
"""

from __future__ import annotations

import zlib

import pytest

from airflow_provider_sparkk8s.testing import spdy

KUBECTL_FRAMES = bytes.fromhex(
    "800300010000003e0000000100000000000078f9e3c6a7c202253a703a2b294a4dcc851625aca9a0808614cb45e01c60"
    "616061c0c0c0c0590489c64c50f2663400000000ffff0000000101000000800300010000001800000003000000000000"
    "c2aa19540e2512d60b000000ffff")


def test_the_frames_kubectl_writes_are_the_error_and_data_streams_of_a_connection() -> None:
    frames = spdy.FrameDecoder().feed(KUBECTL_FRAMES)
    assert frames == [
        spdy.SynStream(1, {"streamtype": "error", "port": "8080", "requestid": "0"}),
        spdy.DataFrame(1, b"", fin=True),
        spdy.SynStream(3, {"streamtype": "data", "port": "8080", "requestid": "0"}),
    ]


def test_the_dictionary_is_the_one_kubectl_compresses_with() -> None:
    # A zlib stream with a preset dictionary names it by its Adler-32 after the 2-byte zlib header.
    header_block = KUBECTL_FRAMES[18:]
    assert header_block[:2] == b"\x78\xf9"
    assert zlib.adler32(spdy.DICTIONARY) == int.from_bytes(header_block[2:6], "big")


def test_frames_cut_anywhere_come_out_whole() -> None:
    decoder = spdy.FrameDecoder()
    frames = [f for i in range(len(KUBECTL_FRAMES)) for f in decoder.feed(KUBECTL_FRAMES[i:i + 1])]
    assert [type(f).__name__ for f in frames] == ["SynStream", "DataFrame", "SynStream"]


def test_every_frame_type_round_trips_through_one_header_stream() -> None:
    frames: list[spdy.Frame] = [
        spdy.SynReply(1), spdy.SynReply(3, {"x-one": "a", "x-two": "b\0c"}, fin=True),
        spdy.SynStream(5, {"streamtype": "data"}, associated_to=1, priority=3, unidirectional=True),
        spdy.Headers(3, {"trailer": "yes"}, fin=True), spdy.DataFrame(3, b"bytes" * 1000), spdy.DataFrame(3, fin=True),
        spdy.RstStream(5, spdy.CANCEL), spdy.Settings(((1, 4, 100), (0, 7, 65536)), clear=True), spdy.Ping(7),
        spdy.GoAway(5, spdy.GOAWAY_PROTOCOL_ERROR), spdy.WindowUpdate(3, 4096)]
    encoder, decoder = spdy.FrameEncoder(), spdy.FrameDecoder()
    assert decoder.feed(b"".join(encoder.encode(f) for f in frames)) == frames


def test_a_frame_of_another_spdy_version_is_a_protocol_error() -> None:
    spdy2_syn_stream = bytes.fromhex("80020001" "0000000a") + bytes(10)
    with pytest.raises(spdy.ProtocolError, match="SPDY version 2"):
        spdy.FrameDecoder().feed(spdy2_syn_stream)


def test_a_control_frame_of_an_unknown_type_is_ignored() -> None:
    noop = bytes.fromhex("80030005" "00000000")  # NOOP, gone from SPDY/3
    assert spdy.FrameDecoder().feed(noop + spdy.FrameEncoder().encode(spdy.Ping(1))) == [spdy.Ping(1)]
