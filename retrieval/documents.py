"""Read postmortems from files and directories into :class:`~tools.postmortems.Document` objects.

``read_documents`` is the one entry point: it walks the paths it is given, reads Markdown,
plain text, HTML and the JSON incident-record format (``retrieval.records``), and returns the
documents, the roots it walked and a warning per file it could not use. It never raises for a
bad file: one unreadable postmortem must not stop a wiki of a thousand from being indexed, so
the file is skipped and the warning says which and why.

Decisions that matter to the index:

* ``doc_id`` is the path relative to the root given (a file given directly: its name), plus
  ``#key`` for a record of a JSON collection, so it is stable across runs and machines.
* ``content_hash`` covers everything the index stores about a document (title, date, services,
  root-cause category, url and every section) and nothing else: an unchanged file keeps its hash
  whatever its mtime, and any change that would show up in a search result changes it.
* A path that does not exist is reported and left out of ``roots``: a wiki mount that is
  briefly missing must not make the index delete every document it had from there.
* Files whose content equals one read before (same hash apart from the url) are reported as
  duplicates and skipped, so copies do not crowd out other results.
* When a document has no summary section, the opening paragraphs before its first heading
  are its summary (most plain-text postmortems open with one); the rest is ``other``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from retrieval.fields import Fields, dedupe_paragraphs, outline_fields
from retrieval.formats import parse_markdown, parse_text
from retrieval.html_outline import parse_html
from retrieval.records import NotACollection, Record, parse_collection
from tools.postmortems import Document, Section

MAX_FILE_BYTES = 8 * 1024 * 1024  # a postmortem is a few KiB; anything this big is a mistake

_MARKDOWN = frozenset({".md", ".markdown", ".mdown", ".mkd"})
_TEXT = frozenset({".txt", ".text", ""})
_HTML = frozenset({".html", ".htm", ".xhtml"})
_LICENCE_NAMES = frozenset({"license", "licence", "copying", "notice"})

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class ReadResult:
    documents: list[Document]
    roots: list[Path]  # resolved roots that exist: documents no longer under them may go
    warnings: list[str]  # "path: what happened", one per file (or record) not fully used


def read_documents(paths: Sequence[Path], *, url_base: str | None = None) -> ReadResult:
    """Documents under ``paths`` (files, or directories walked recursively in sorted order).

    ``url_base`` (e.g. the wiki the files are published on) gives each document the link
    ``url_base/<relative path>``, else it links to its ``file://`` URI. A record of a JSON
    collection links to its own ``link`` whenever it has one: that is the published postmortem,
    while ``url_base`` would only point at our copy of the collection file.
    """
    documents: list[Document] = []
    roots: list[Path] = []
    warnings: list[str] = []
    by_id: dict[str, str] = {}
    by_content: dict[str, str] = {}
    for given in paths:
        root = Path(given).expanduser().resolve()
        if not root.exists():
            warnings.append(f"{given}: not found, skipped")
            continue
        if root in roots:
            continue
        roots.append(root)
        for path, rel, shown in _files(root, Path(given), warnings):
            for document, dedupe_key, where in _read_file(path, rel, shown, url_base, warnings):
                if document.doc_id in by_id:
                    first = by_id[document.doc_id]
                    warnings.append(f"{where}: skipped, id {document.doc_id!r} is used by {first}")
                elif dedupe_key in by_content:
                    warnings.append(
                        f"{where}: duplicate of {by_content[dedupe_key]} (same content)"
                    )
                else:
                    by_id[document.doc_id] = by_content[dedupe_key] = where
                    documents.append(document)
    return ReadResult(documents, roots, warnings)


def _files(root: Path, given: Path, warnings: list[str]) -> Iterator[tuple[Path, str, str]]:
    """(path, path relative to the root in posix form, path to show) of each file to read."""
    if not root.is_dir():
        yield root, root.name, str(given)
        return
    found: list[tuple[str, Path]] = []
    for directory, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            path = Path(directory, name)
            if not name.startswith(".") and path.is_file():
                found.append((path.relative_to(root).as_posix(), path))
    for rel, path in sorted(found):
        shown = str(given / rel)
        if path.stem.lower() in _LICENCE_NAMES:
            warnings.append(f"{shown}: skipped, licence file")
        else:
            yield path, rel, shown


def _read_file(
    path: Path, rel: str, shown: str, url_base: str | None, warnings: list[str]
) -> Iterator[tuple[Document, str, str]]:
    """(document, content key for duplicate detection, name for messages) for each document."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            warnings.append(f"{shown}: skipped, larger than {MAX_FILE_BYTES // 2**20} MiB")
            return
        data = path.read_bytes()
    except OSError as exc:
        warnings.append(f"{shown}: skipped, cannot be read ({exc.strerror or exc})")
        return
    text, note = decode(data)
    if text is None:
        warnings.append(f"{shown}: skipped, binary file")
        return
    if note:
        warnings.append(f"{shown}: {note}")
    if not text.strip():
        warnings.append(f"{shown}: empty")
        return
    suffix = path.suffix.lower()
    if suffix == ".json":
        yield from _read_records(text, path, rel, shown, url_base, warnings)
        return
    if suffix in _MARKDOWN:
        kind, outline = "markdown", parse_markdown(text)
    elif suffix in _HTML or (suffix not in _TEXT and _looks_like_html(text)):
        kind, outline = "html", parse_html(text)
    else:
        kind, outline = "text", parse_text(text)
    warnings.extend(f"{shown}: {warning}" for warning in outline.warnings)
    parts = outline_fields(outline, kind=kind, file_name=path.name)
    if not parts.sections:
        warnings.append(f"{shown}: empty")
        return
    url = _join_url(url_base, rel) if url_base else path.as_uri()
    yield _document(rel, str(path), url, parts), _dedupe_key(parts), shown


def decode(data: bytes) -> tuple[str | None, str | None]:
    """The text of a file and a note on how it was decoded; ``(None, None)`` for binary data.

    UTF-8 (with or without BOM) and BOM-marked UTF-16 are read as they are. Other text is read
    as Windows-1252, the usual legacy encoding of Western office and wiki exports, replacing what
    it cannot map, so one odd byte does not lose a postmortem. NUL bytes, many undecodable
    bytes or many control characters mean binary.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError:
            return None, None
    if b"\x00" in data[:8192]:
        return None, None
    note = None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        attempt = data.decode("utf-8", errors="replace")
        if attempt.count("\ufffd") > 0.1 * max(len(attempt), 1):
            return None, None
        text = data.decode("cp1252", errors="replace")
        note = "not UTF-8, read as Windows-1252 (undecodable bytes replaced)"
    if len(_CONTROL.findall(text[:65536])) > 0.01 * max(len(text[:65536]), 1):
        return None, None
    return text, note


def _looks_like_html(text: str) -> bool:
    head = text.lstrip()[:512].lower()
    return head.startswith(("<!doctype html", "<html")) or "<body" in head


def _read_records(
    text: str, path: Path, rel: str, shown: str, url_base: str | None, warnings: list[str]
) -> Iterator[tuple[Document, str, str]]:
    try:
        records, notes = parse_collection(text)
    except NotACollection as exc:
        warnings.append(f"{shown}: skipped, JSON but not incident records ({exc})")
        return
    except ValueError as exc:  # json.JSONDecodeError
        warnings.append(f"{shown}: skipped, invalid JSON ({exc})")
        return
    warnings.extend(f"{shown}{note}" for note in notes)
    for record in records:
        suffix = "" if record.key is None else f"#{record.key}"
        parts = _record_parts(record)
        if not parts.sections:
            warnings.append(f"{shown}{suffix}: empty")
            continue
        # The record's own link is the postmortem itself; url_base only locates our copy.
        if record.link:
            url = record.link
        elif url_base:
            url = _join_url(url_base, rel) + (f"#{quote(record.key)}" if record.key else "")
        else:
            url = path.as_uri() + (f"#{quote(record.key)}" if record.key else "")
        document = _document(rel + suffix, f"{path}{suffix}", url, parts)
        yield document, _dedupe_key(parts), shown + suffix


def _record_parts(record: Record) -> Fields:
    sections = [Section(name, heading, text) for name, heading, text in record.sections]
    return Fields(
        title=record.title or (record.key or ""),
        date=record.date,
        services=record.services,
        root_cause_category=record.root_cause_category,
        sections=dedupe_paragraphs(sections),
    )


# --- assembly -------------------------------------------------------------------------------


def _join_url(base: str, rel: str) -> str:
    return f"{base.rstrip('/')}/{quote(rel)}"


def _canonical(parts: Fields, url: str | None) -> str:
    return json.dumps(
        {
            "title": parts.title,
            "date": parts.date.isoformat() if parts.date else None,
            "services": list(parts.services),
            "root_cause_category": parts.root_cause_category,
            "url": url,
            "sections": [[s.name.value, s.heading, s.text] for s in parts.sections],
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )


def _dedupe_key(parts: Fields) -> str:
    return hashlib.sha256(_canonical(parts, None).encode()).hexdigest()


def _document(doc_id: str, source: str, url: str | None, parts: Fields) -> Document:
    return Document(
        doc_id=doc_id,
        title=parts.title,
        source=source,
        url=url,
        date=parts.date,
        services=parts.services,
        root_cause_category=parts.root_cause_category,
        sections=tuple(parts.sections),
        content_hash=hashlib.sha256(_canonical(parts, url).encode()).hexdigest(),
    )
