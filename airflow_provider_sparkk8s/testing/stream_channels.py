"""The websocket channel protocols of pods/exec, pods/attach and pods/portforward (apimachinery's wsstream).

Every message carries one channel's bytes: with the binary protocols (``v5.channel.k8s.io``, ``v4.channel.k8s.io``,
``channel.k8s.io``) the first byte is the channel number; with the base64 ones (``*base64.channel.k8s.io``) the
message is text, its first character the channel as a digit and the rest the bytes in base64. A client may send
text frames in a binary protocol too (the python client does for str data): their first character is the channel.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from aiohttp import WSMsgType, web

# The client's order of preference wins (aiohttp picks the first of its list that the server offers).
EXEC_PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io", "v4.base64.channel.k8s.io", "channel.k8s.io",
                  "base64.channel.k8s.io")
PORTFORWARD_PROTOCOLS = ("v4.channel.k8s.io", "v4.base64.channel.k8s.io")
V5 = "v5.channel.k8s.io"
CLOSE_SIGNAL = 255  # v5: the client closes one of its streams (the payload's byte says which)


@dataclass(frozen=True)
class Message:
    channel: int
    data: bytes


def is_websocket(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


class Channels:
    """One accepted websocket, read and written as channels."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.protocol = ws.ws_protocol or ""
        self._base64 = "base64" in self.protocol

    @classmethod
    async def accept(cls, request: web.Request, protocols: tuple[str, ...]) -> Channels:
        ws = web.WebSocketResponse(protocols=protocols, max_msg_size=0, autoping=True)
        await ws.prepare(request)
        return cls(ws)

    @property
    def status_as_json(self) -> bool:
        """Whether the error channel carries a metav1.Status (v4 and later) or plain text (the first protocols)."""
        return self.protocol.startswith(("v4.", "v5."))

    async def send(self, channel: int, data: bytes) -> None:
        if self.ws.closed:
            return
        if self._base64:
            await self.ws.send_str(str(channel) + base64.b64encode(data).decode())
        else:
            await self.ws.send_bytes(bytes([channel]) + data)

    async def receive(self) -> Message | None:
        """The next message with a channel (None once the client is gone)."""
        while True:
            message = await self.ws.receive()
            if message.type == WSMsgType.BINARY and message.data:
                return Message(message.data[0], bytes(message.data[1:]))
            if message.type == WSMsgType.TEXT and message.data:
                text: str = message.data
                if self._base64:
                    return Message(int(text[0]), base64.b64decode(text[1:]))
                return Message(ord(text[0]), text[1:].encode())
            if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                return None

    async def close(self) -> None:
        await self.ws.close()
