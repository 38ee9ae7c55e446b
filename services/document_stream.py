"""A report document read line by line, never whole.

Amazon's flat-file reports can be hundreds of thousands of lines. A stored
document (the bytes as Amazon sent them, gzip or not) is gunzipped and
decoded chunk by chunk, and split into lines as it goes: reading it holds one
chunk, not the document. It can be read as often as needed (the report parser
reads it twice). The one set of rules for every document (``decode_document``
is the same reading, joined): a UTF-8 byte-order mark wins; without a charset,
UTF-8 when the whole document is valid UTF-8, else ISO-8859-1; Shift_JIS read
as Windows-31J; gzip when Amazon says so or when the bytes are gzip.
"""
import codecs
import gzip
import io
import re
import zlib

from sp_api.util.report_document import resolve_character_code

from . import errors
from .errors import _lt

CHUNK = 1 << 20        # bytes (or characters) read at a time
BOM = b"\xef\xbb\xbf"
_NEWLINE = re.compile(r"\r\n|\r|\n")


def split_lines(chunks):
    """Text chunks -> lines without their ends (``\\n``, ``\\r\\n`` or ``\\r``,
    also when a chunk ends between ``\\r`` and ``\\n``). A document ending with
    a line end has no empty last line."""
    pending = ""
    for chunk in chunks:
        if not chunk:
            continue
        text, hold = pending + chunk, ""
        if text.endswith("\r"):   # maybe the first half of "\r\n": decided by the next chunk
            text, hold = text[:-1], "\r"
        parts = _NEWLINE.split(text)
        pending = parts.pop() + hold
        yield from parts
    if pending:
        parts = _NEWLINE.split(pending)
        if parts[-1] == "":
            parts.pop()
        yield from parts


def text_lines(text):
    """The lines of a text, read lazily (no list of all lines)."""
    return split_lines(text[start:start + CHUNK] for start in range(0, len(text), CHUNK))


class DocumentLines:
    """A stored document (``raw`` bytes, ``compression`` as Amazon named it,
    ``charset`` from the download) as lines; iterate it once per pass.

    Raises ``errors.AmazonDocumentError`` when the document is damaged or not
    text in its charset: at construction for what the charset choice reads,
    else while iterating."""

    def __init__(self, raw, compression=None, charset=None):
        self.raw = raw
        self.compression = compression or None
        self.gzip_inside = not self.compression and raw[:2] == b"\x1f\x8b"
        self.encoding = self._choose_encoding(charset or None)

    # ------------------------------------------------------------ bytes
    def _chunks(self):
        """The decompressed bytes, chunk by chunk."""
        if self.compression:
            yield from self._inflate()
        elif self.gzip_inside:
            yield from self._gunzip()
        else:
            view = memoryview(self.raw)
            for start in range(0, len(view), CHUNK):
                yield view[start:start + CHUNK].tobytes()

    def _inflate(self):
        # zlib with a gzip or zlib header, as sp_api's decompress_bytes reads it
        inflater = zlib.decompressobj(15 + 32)
        view = memoryview(self.raw)
        try:
            for start in range(0, len(view), CHUNK):
                data = view[start:start + CHUNK]
                while True:
                    out = inflater.decompress(data, CHUNK)
                    data = inflater.unconsumed_tail
                    if out:
                        yield out
                    if inflater.eof or (not data and len(out) < CHUNK):
                        break
                if inflater.eof:
                    break
            rest = inflater.flush()
            if rest:
                yield rest
            if not inflater.eof:
                raise zlib.error("Error -5 while decompressing data: incomplete or truncated stream")
        except zlib.error as exc:
            raise errors.AmazonDocumentError(_lt(
                "The report document is damaged (%(error)s): it was cut short or is not gzip. "
                "Download it again."), params={"error": exc}) from None

    def _gunzip(self):
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(self.raw)) as stream:
                while True:
                    out = stream.read(CHUNK)
                    if not out:
                        break
                    yield out
        except (OSError, EOFError, zlib.error) as exc:
            raise errors.AmazonDocumentError(_lt(
                "The report document is damaged (%(error)s): download it again."),
                params={"error": exc}) from None

    # ------------------------------------------------------------ text
    def _choose_encoding(self, charset):
        first = next(iter(self._chunks()), b"")
        if first.startswith(BOM):
            return "utf-8-sig"
        if not charset and self._decodes("utf-8"):
            return "utf-8"
        encoding = resolve_character_code(None, fallback="iso-8859-1", response_charset_encoding=charset)
        if encoding.lower().replace("-", "_") in ("shift_jis", "sjis", "x_sjis"):
            encoding = "cp932"   # Amazon JP labels Windows-31J text as Shift_JIS
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise errors.AmazonDocumentError(_lt(
                "The report document is not valid %(encoding)s text (%(error)s)."),
                params={"encoding": encoding, "error": exc}) from None
        return encoding

    def _decodes(self, encoding):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for chunk in self._chunks():
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
        return True

    def _text_chunks(self):
        decoder = codecs.getincrementaldecoder(self.encoding)()
        try:
            for chunk in self._chunks():
                yield decoder.decode(chunk)
            yield decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise errors.AmazonDocumentError(_lt(
                "The report document is not valid %(encoding)s text (%(error)s)."),
                params={"encoding": self.encoding, "error": exc}) from None

    def __iter__(self):
        return split_lines(self._text_chunks())

    def text(self):
        """The whole document as one text (small documents: a big one is iterated)."""
        return "".join(self._text_chunks())

    def check(self):
        """Read the document to its end (gzip and charset): ``AmazonDocumentError``
        when it is damaged. Nothing is kept."""
        for _chunk in self._text_chunks():
            pass


def decode_document(raw, compression=None, charset=None):
    """Bytes of a report document -> its text, by ``DocumentLines``' rules."""
    return DocumentLines(raw, compression, charset).text()
