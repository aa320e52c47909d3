"""Files kept with a record: what may be attached, and every write to attachments.

A file's type is decided by its content (magic bytes), never by the browser's content type:
the extension must be one we allow, and the content must really be of that kind.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from lejek.activities.models import Activity, Attachment
from lejek.activities.services import subject_kwargs
from lejek.core.events import record_event
from lejek.core.records import ensure_editable

# extension → (kind detected from the content, content type we serve it with)
ALLOWED: dict[str, tuple[str, str]] = {
    "pdf": ("pdf", "application/pdf"),
    "png": ("png", "image/png"),
    "jpg": ("jpeg", "image/jpeg"),
    "jpeg": ("jpeg", "image/jpeg"),
    "gif": ("gif", "image/gif"),
    "webp": ("webp", "image/webp"),
    "docx": (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pptx": (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    "odt": ("odt", "application/vnd.oasis.opendocument.text"),
    "ods": ("ods", "application/vnd.oasis.opendocument.spreadsheet"),
    "txt": ("text", "text/plain"),
    "csv": ("text", "text/csv"),
}
PROGRAM_MAGIC = (
    b"MZ",  # Windows .exe, .dll, .scr
    b"\x7fELF",  # Linux
    b"\xfe\xed\xfa\xce",  # Mach-O, 32 and 64 bit, both byte orders
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O universal binary, Java class
)
SIMPLE_MAGIC = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)
OOXML_FOLDERS = {"word/": "docx", "xl/": "xlsx", "ppt/": "pptx"}
ODF_TYPES = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
}
TEXT_CONTROLS = set(range(32)) - {9, 10, 12, 13}
ALLOWED_HELP = "PDF, PNG, JPEG, GIF, WebP, DOCX, XLSX, PPTX, ODT, ODS, TXT, CSV"


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content: bytes
    content_type: str

    def as_email_attachment(self) -> tuple[str, bytes, str]:
        return (self.name, self.content, self.content_type)


def max_bytes() -> int:
    return settings.LEJEK_MAX_ATTACHMENT_MB * 1024 * 1024


def extension(name: str) -> str:
    return PurePath(name).suffix.lower().lstrip(".")


def _zip_kind(content: bytes) -> str | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        names = archive.namelist()
        if names and names[0] == "mimetype":
            return ODF_TYPES.get(archive.read("mimetype").strip())
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, NotImplementedError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    # Macro-enabled documents carry a VBA project even when renamed to .docx/.xlsx/.pptx.
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        return "macros"
    for folder, kind in OOXML_FOLDERS.items():
        if any(name.startswith(folder) for name in names):
            return kind
    return None


def _is_text(content: bytes) -> bool:
    if b"\x00" in content:
        return False
    for encoding in ("utf-8-sig", "cp1250"):  # cp1250: Polish files saved by older Windows
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        return not any(ord(char) in TEXT_CONTROLS for char in text)
    return False


def sniff(content: bytes) -> str | None:
    """The kind of file the bytes really are: "pdf", "docx", "text", "program", … or None."""
    if content.startswith(PROGRAM_MAGIC):
        return "program"
    for magic, kind in SIMPLE_MAGIC:
        if content.startswith(magic):
            return kind
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "webp"
    if content.startswith(b"PK\x03\x04"):
        return _zip_kind(content)
    if _is_text(content):
        return "text"
    return None


def check_size(name: str, size: int) -> None:
    if size == 0:
        raise ValidationError(_("“%(name)s” is empty.") % {"name": name})
    if size > max_bytes():
        raise ValidationError(
            _("“%(name)s” is %(size)s; a file can be at most %(mb)s MB.")
            % {"name": name, "size": filesizeformat(size), "mb": settings.LEJEK_MAX_ATTACHMENT_MB}
        )


def check_file(name: str, content: bytes) -> CheckedFile:
    """Refuse empty, oversized, disallowed or mislabelled files; name the type we serve."""
    name = PurePath(name.replace("\\", "/")).name.strip() or "file"
    check_size(name, len(content))
    ext = extension(name)
    found = sniff(content)
    if found == "program":
        raise ValidationError(
            _("“%(name)s” is a program; programs cannot be attached.") % {"name": name}
        )
    if found == "macros":
        raise ValidationError(
            _("“%(name)s” contains macros; save it without macros and attach it again.")
            % {"name": name}
        )
    if ext not in ALLOWED:
        raise ValidationError(
            _("“%(name)s”: this type of file cannot be attached. Allowed: %(allowed)s.")
            % {"name": name, "allowed": ALLOWED_HELP}
        )
    expected, content_type = ALLOWED[ext]
    if found != expected:
        raise ValidationError(
            _(
                "The content of “%(name)s” is not a .%(ext)s file. Attach the original file, "
                "or give it the extension of what it really is."
            )
            % {"name": name, "ext": ext}
        )
    return CheckedFile(name=name[:255], content=content, content_type=content_type)


def read_upload(upload: UploadedFile) -> CheckedFile:
    """Check an uploaded file; its size is checked before it is read into memory."""
    name = upload.name or "file"
    check_size(name, upload.size or 0)
    upload.seek(0)
    return check_file(name, upload.read())


def described(attachment: Attachment) -> dict:
    return {
        "attachment": attachment.pk,
        "name": attachment.original_name,
        "size": attachment.size,
        "content_type": attachment.content_type,
        "activity": attachment.activity_id,
    }


def attachment_store(
    *,
    actor,
    subject,
    name: str,
    content: bytes,
    content_type: str,
    activity: Activity | None = None,
) -> Attachment:
    """Store an already checked file with a record (see `check_file`)."""
    ensure_editable(actor, subject)
    attachment = Attachment(
        original_name=name,
        size=len(content),
        content_type=content_type,
        activity=activity,
        uploaded_by=actor,
        **subject_kwargs(subject),
    )
    # A random stored name: the original can be anything, and must not be guessable.
    stored = f"{uuid.uuid4().hex}.{extension(name) or 'bin'}"
    attachment.file.save(stored, ContentFile(content), save=False)
    try:
        attachment.full_clean()
        attachment.save()
        record_event(
            actor=actor,
            verb="attachment.added",
            obj=subject,
            after=described(attachment),
        )
    except BaseException:
        attachment.file.delete(save=False)
        raise
    return attachment


@transaction.atomic
def attachment_add(*, actor, subject, upload: UploadedFile) -> Attachment:
    """Check an uploaded file (size, type by content) and keep it with the record."""
    ensure_editable(actor, subject)
    checked = read_upload(upload)
    return attachment_store(
        actor=actor,
        subject=subject,
        name=checked.name,
        content=checked.content,
        content_type=checked.content_type,
    )


@transaction.atomic
def attachment_delete(*, actor, attachment: Attachment) -> None:
    subject = attachment.subject
    ensure_editable(actor, subject)
    stored = attachment.file.name
    storage = attachment.file.storage
    record_event(
        actor=actor,
        verb="attachment.deleted",
        obj=subject,
        before=described(attachment),
    )
    attachment.delete()
    # The file goes only once the row is surely gone.
    transaction.on_commit(lambda: storage.delete(stored))
