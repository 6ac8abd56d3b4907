"""A document passes through the BFF a chunk at a time: its type is read from its first bytes, and a file over the
sponsor's limit is cut off as it passes the limit, however much more the browser would send."""

import io

import pytest
from werkzeug.formparser import parse_form_data

from widgets.preauth.uploads import CHUNK, MULTIPART_OVERHEAD, Refused, Upload

LIMIT = 64 * 1024
MAX_BODY = 6 * 1024 * 1024
START = (b'--b\r\nContent-Disposition: form-data; name="document_type"\r\n\r\nMEDICAL_ORDER\r\n'
         b'--b\r\nContent-Disposition: form-data; name="file"; filename="order (1).pdf"\r\n'
         b"Content-Type: application/octet-stream\r\n\r\n")


class Browser(io.RawIOBase):
    """What a browser sends: the form's start, then the file (as large as it takes); counts the bytes read."""

    def __init__(self, file_start, file_size):
        self.file_size, self.read_bytes, self.pending = file_size, 0, b""
        self.pieces = self._body(file_start, file_size)

    @staticmethod
    def _body(file_start, file_size):
        yield START
        yield file_start
        left = file_size - len(file_start)
        while left > 0:
            yield b"x" * min(left, 4096)
            left -= 4096
        yield b"\r\n--b--\r\n"

    def readable(self):
        return True

    def readinto(self, buffer):
        while not self.pending:
            self.pending = next(self.pieces, None)
            if self.pending is None:
                return 0
        size = min(len(buffer), len(self.pending), 777)  # the network hands the body over in odd pieces
        buffer[:size], self.pending = self.pending[:size], self.pending[size:]
        self.read_bytes += size
        return size


def environ(browser, length=None):
    """The WSGI environ of an upload; without a length, the body is chunked (the server says where it ends)."""
    values = {"REQUEST_METHOD": "POST", "CONTENT_TYPE": "multipart/form-data; boundary=b",
              "wsgi.input": browser, "wsgi.input_terminated": length is None}
    if length is not None:
        values["CONTENT_LENGTH"] = str(length)
    return values


def test_a_file_over_the_limit_is_cut_off_without_being_read_whole():
    browser = Browser(b"%PDF-1.4\n", file_size=100 * LIMIT)  # 6.4 MB on its way
    upload = Upload(environ(browser), LIMIT, MAX_BODY)
    upload.open()
    assert (upload.document_type, upload.filename, upload.content_type) == (
        "MEDICAL_ORDER", "order _1_.pdf", "application/pdf")
    passed_on = 0
    with pytest.raises(Refused) as refused:
        for piece in upload.body("osigu"):
            passed_on += len(piece)
    assert refused.value.reason == "too_large"
    assert passed_on <= LIMIT + 1024  # the file up to its limit, and the part headers before it
    assert browser.read_bytes <= LIMIT + MULTIPART_OVERHEAD < browser.file_size // 50


def test_a_file_too_large_by_its_length_is_refused_before_a_byte_is_read():
    browser = Browser(b"%PDF-1.4\n", file_size=2 * LIMIT)
    upload = Upload(environ(browser, length=2 * LIMIT + len(START) + 20), LIMIT, MAX_BODY)
    with pytest.raises(Refused) as refused:
        upload.open()
    assert refused.value.reason == "too_large" and browser.read_bytes == 0


def test_the_type_is_read_from_the_first_bytes_and_the_rest_is_never_read():
    browser = Browser(b"MZ\x90\x00 a program named .pdf", file_size=50 * LIMIT)
    with pytest.raises(Refused) as refused:
        Upload(environ(browser), LIMIT, MAX_BODY).open()
    assert refused.value.reason == "not_accepted" and browser.read_bytes <= 2 * CHUNK + len(START)


def test_what_osigu_receives_is_the_browsers_file_byte_for_byte():
    content = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 300  # longer than the first chunk held to tell its type
    browser = Browser(content, file_size=len(content))
    upload = Upload(environ(browser), LIMIT * 2, MAX_BODY)
    upload.open()
    body = b"".join(upload.body("osigu-boundary"))
    received = {"REQUEST_METHOD": "POST", "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
                "CONTENT_TYPE": "multipart/form-data; boundary=osigu-boundary"}
    _stream, form, files = parse_form_data(received, stream_factory=lambda *_, **__: io.BytesIO())
    assert form["document_type"] == "MEDICAL_ORDER"
    assert (files["file"].filename, files["file"].mimetype) == ("order _1_.pdf", "image/png")
    assert files["file"].read() == content
