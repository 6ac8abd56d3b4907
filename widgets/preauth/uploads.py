"""A support document on its way to Osigu: read from the browser's multipart body as it arrives and sent on as it
is read, so the BFF holds one chunk of it at a time, writes nothing to disk and cuts off a file over the limit."""

import hashlib
import itertools
import re

from urllib3.fields import RequestField
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import NEED_DATA, Data, Epilogue, Field, File, MultipartDecoder
from werkzeug.wsgi import get_input_stream

# A document's type is read from its first bytes, never from its name or the browser's say-so.
SIGNATURES = {b"%PDF-": "application/pdf", b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
MULTIPART_OVERHEAD = 16 * 1024  # the form's other field and the part headers around the file
CHUNK = 64 * 1024
MAX_FIELD = 1024  # the document type, the one field besides the file


class Refused(Exception):
    """The upload cannot go on; reason is "too_large", "not_accepted" or "missing"."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class Upload:
    """One document arriving: its kind, its name and its type read from its first chunk; the rest is on the wire.

    The browser sends the document type before the file (the form's order), so both are known before the file's
    bytes are; the first chunk of the file is held to tell its type, each later one only while it is sent on.
    """

    def __init__(self, environ, limit, max_body):
        self.limit, self._environ = limit, environ
        length = environ.get("CONTENT_LENGTH", "")
        self._too_large = length.isdigit() and int(length) > limit + MULTIPART_OVERHEAD
        # A body too large by its length is only drained (the browser then reads the answer); any other is read
        # to the limit at most, whatever it says of its length (or if it says none: chunked).
        self._stream = get_input_stream(environ, max_content_length=max_body if self._too_large
                                        else limit + MULTIPART_OVERHEAD)
        self.document_type = self.filename = self.content_type = None
        self.head = b""

    def open(self):
        """Read up to the file's first bytes: its kind, its name and its type; raise Refused if it cannot go on."""
        if self._too_large:
            raise Refused("too_large")  # said by its length: not a byte of it is read to know
        self._events = self._decoded(parse_options_header(self._environ.get("CONTENT_TYPE", ""))[1].get("boundary"))
        self.document_type = ""
        for event in self._events:
            if isinstance(event, Field) and event.name == "document_type":
                self.document_type = self._field()
            elif isinstance(event, File) and event.name == "file":
                self.filename = re.sub(r"[^\w. -]", "_", event.filename)[-100:] or "document"
                break
        if not self.filename:
            raise Refused("missing")
        self._file = self._data()
        for chunk in self._file:  # however the bytes arrived, the same file has the same head
            self.head += chunk
            if len(self.head) >= CHUNK:
                break
        if not self.head:
            raise Refused("missing")
        self.content_type = next((kind for signature, kind in SIGNATURES.items()
                                  if self.head.startswith(signature)), None)
        if self.content_type is None:
            raise Refused("not_accepted")

    def _decoded(self, boundary):
        """The multipart events of the browser's body, read a chunk at a time."""
        if not boundary:
            raise Refused("missing")
        decoder, ended = MultipartDecoder(boundary.encode("latin-1")), False  # the field's size is _field()'s
        while True:
            try:
                event = decoder.next_event()
                if event is NEED_DATA:
                    if ended:
                        raise Refused("missing")  # the body stopped short of its end
                    chunk = self._stream.read(CHUNK)
                    ended = not chunk
                    decoder.receive_data(chunk or None)
                    continue
            except RequestEntityTooLarge as error:
                raise Refused("too_large") from error
            except ValueError as error:
                raise Refused("missing") from error
            if isinstance(event, Epilogue):
                return
            yield event

    def _field(self):
        """The current part's text, refused past MAX_FIELD."""
        value = b""
        for data in self._data():
            value += data
            if len(value) > MAX_FIELD:
                raise Refused("missing")
        return value.decode("utf-8", "replace")

    def _data(self):
        """The bytes of the current part, until its end."""
        for event in self._events:
            if not isinstance(event, Data):
                return
            if event.data:
                yield event.data
            if not event.more_data:
                return

    def key(self):
        """What tells this upload from another before all of it is read: kind, name, length and first chunk."""
        return {"type": self.document_type, "filename": self.filename, "length": self._environ.get("CONTENT_LENGTH"),
                "head": hashlib.sha256(self.head[:CHUNK]).hexdigest()}

    def body(self, boundary):
        """The multipart body for Osigu, sent as the browser's arrives; raises Refused once the file is too large."""
        separator = f"--{boundary}\r\n".encode()
        kind = RequestField("document_type", self.document_type)
        kind.make_multipart()
        document = RequestField("file", b"", filename=self.filename)
        document.make_multipart(content_type=self.content_type)
        yield (separator + kind.render_headers().encode() + self.document_type.encode() + b"\r\n" + separator
               + document.render_headers().encode())
        sent = 0
        for chunk in itertools.chain([self.head], self._file):
            sent += len(chunk)
            if sent > self.limit:
                raise Refused("too_large")  # the request to Osigu is cut short with it: nothing is attached
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    def discard(self):
        """Read what the browser is still sending of a refused upload, up to the limit, so the answer reaches it."""
        try:
            while self._stream.read(CHUNK):
                pass
        except RequestEntityTooLarge:
            pass  # past the limit the connection is closed instead
