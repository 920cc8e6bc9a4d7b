"""Why a photo, an import row or an upload was refused: a code with parameters, put into words when shown.

The code and its parameters are what is stored (ReferencePhoto.rejection_code and
.rejection_params, the problems of an ImportJob), so the same refusal reads in Vietnamese
for one curator and in English for another, and never as a raw byte count or Python text.
A parameter whose name ends in `_bytes` is shown as megabytes in the reader's number format
("23,7 MB" in Vietnamese), under its name without the suffix.
"""

from typing import Any

from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

MESSAGES: dict[str, Promise] = {
    # the quality gate (enrollment/quality.py) and the enrollment job (enrollment/actions.py)
    "photo.no_face": _("No face found in the photo."),
    "photo.several_faces": _(
        "Several faces of similar size (%(count)s): use a photo of this person alone, or crop it."
    ),
    "photo.face_too_small": _(
        "Face too small: %(width)s px across, at least %(minimum)s px needed. Use a larger or closer photo."
    ),
    "photo.not_confident": _(
        "The detector is not confident this is a clear face (%(confidence)s, at least %(minimum)s needed): "
        "use a clearer, well-lit photo."
    ),
    "photo.blurred": _("Face too blurred (sharpness %(sharpness)s, at least %(minimum)s needed): use a sharper photo."),
    "photo.turned": _(
        "Face turned too far to the side (about %(yaw)s°, at most %(maximum)s°): use a photo facing the camera."
    ),
    "photo.not_this_subject": _(
        "Does not look like this subject's other accepted photos (similarity %(similarity)s, %(threshold)s "
        "needed): check that it shows the same person."
    ),
    "photo.same_face_as": _(
        "The same face as “%(name)s” of “%(watchlist)s” (similarity %(similarity)s, %(threshold)s matches): "
        "a curator decides whether it is the same person."
    ),
    "photo.missing_file": _("The photo file is missing from storage: upload it again."),
    "photo.job_failed": _("Enrollment failed (%(error)s): check the server, then check the photo again."),
    "photo.too_large": _("Photo %(size)s; at most %(limit)s."),
    # an upload refused before it is stored (recognition/images.py InvalidImageError codes)
    "image.empty": _("The file is empty."),
    "image.unreadable": _("Not a readable image: send %(formats)s."),
    "image.unsupported": _("%(kind)s images are not accepted: send %(formats)s."),
    "image.too_many_pixels": _("The image has too many pixels."),
    "image.dimensions": _("The image is %(width)s×%(height)s pixels; at most %(limit)s pixels."),
    "image.too_many_scans": _("The JPEG has %(scans)s scans; at most %(limit)s."),
    "image.corrupt": _("The image is truncated or corrupt."),
    # a bulk import (enrollment/importer.py)
    "import.no_full_name": _("No full_name."),
    "import.unknown_watchlist": _(
        "No watchlist is named “%(name)s”: check the spelling, or tick “Create missing watchlists”."
    ),
    "import.bad_date": _("The expiry date “%(value)s” is not a date: write it as YYYY-MM-DD or DD/MM/YYYY."),
    "import.invalid": _("%(name)s: %(why)s"),
    "import.not_in_zip": _("Not in the zip."),
    "import.no_accepted_photo": _("No accepted photo: this subject cannot match anyone until one is added."),
    "import.not_a_zip": _("The photos file is not a zip archive."),
    "import.damaged_member": _("The zip member “%(member)s” is damaged: make the zip again."),
    "import.encrypted_member": _("The zip member “%(member)s” is encrypted: make the zip without a password."),
    "import.duplicate_member": _("Two files in the zip are named “%(member)s”: give each photo its own name."),
    "import.too_many_photos": _("The zip holds %(count)s files; at most %(limit)s."),
    "import.zip_too_large": _("The zip unpacks to %(size)s; at most %(limit)s."),
    "import.not_utf8": _("The CSV is not UTF-8 text: save it as “CSV UTF-8”."),
    "import.bad_csv": _("The CSV could not be read at line %(line)s: check its quotes and separators."),
    "import.watchlist_created": _(
        "Watchlist “%(name)s” created, as asked, with the banks, branches and threshold of “%(base)s”."
    ),
    "import.no_header": _("The CSV has no full_name column in its first row."),
    "import.too_many_rows": _("The CSV has %(count)s rows; at most %(limit)s."),
    "import.unreadable": _("The import's files could not be read (%(error)s): start the import again."),
    "import.stalled": _(
        "The import did not finish (its worker stopped): check the subjects it created, then import the "
        "remaining rows again."
    ),
    "import.crashed": _("The import stopped with an error (%(error)s): the rows before it were imported."),
}


def megabytes(count: int) -> str:
    """23,7 MB in Vietnamese, 23.7 MB in English; a whole number without decimals (8 MB)."""
    value = round(count / (1024 * 1024), 1)
    return f"{number_format(value, 0 if value == int(value) else 1)} MB"


def render(code: str, params: dict[str, Any] | None = None) -> str:
    """The sentence for `code` in the active language; an unknown code is shown as itself."""
    message = MESSAGES.get(code)
    if message is None:
        return code
    values: dict[str, Any] = {}
    for key, value in (params or {}).items():
        if key.endswith("_bytes") and isinstance(value, int | float):
            values[key.removesuffix("_bytes")] = megabytes(int(value))
        elif isinstance(value, float):
            values[key] = number_format(value)  # the caller rounded it: 0,36 in Vietnamese
        else:
            values[key] = value
    try:
        return str(message) % values
    except (KeyError, ValueError, TypeError):  # parameters of an older version of the message
        return str(message)


def invalid_image(exc: Any) -> str:
    """An InvalidImageError (recognition/images.py) in the reader's language."""
    return render(getattr(exc, "code", "image.unreadable"), getattr(exc, "params", {}))


def problem(code: str, *, row: int | None = None, photo: str | None = None, **params: Any) -> dict[str, Any]:
    """One entry of an import's report, as stored: where, the code, its parameters."""
    return {"row": row, "photo": photo, "code": code, "params": params}
