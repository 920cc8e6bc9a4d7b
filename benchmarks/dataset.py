"""The identification set and camera-like frames, built from ../shared/datasets/deepface-unit.

People are the connected components of the "same person" pairs of the labelled pair files
(master.csv and face-recognition-pivot.csv); nobody is labelled by looking at the photos.
The watchlist holds the first photo of the first `LISTED` people; every other photo of all
people is a probe, so the probes of the other people must match no one.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from numpy.typing import NDArray

from recognition.evaluation import read_pairs

if TYPE_CHECKING:  # the engine's modules load only where it runs
    from recognition.engine import Engine

PAIR_FILES = ("master.csv", "face-recognition-pivot.csv")
LISTED = 7
FRAME_SIZE = (640, 360)


def photo_number(name: str) -> tuple[int, str]:
    match = re.search(r"(\d+)", name)
    return (int(match.group(1)) if match else 0, name)


def identities(dataset: Path) -> dict[str, int]:
    """Person number of each labelled photo: people numbered in the order of their first photo."""
    parent: dict[str, str] = {}

    def root(name: str) -> str:
        while parent.setdefault(name, name) != name:
            name = parent[name]
        return name

    for pairs_file in PAIR_FILES:
        for pair in read_pairs(dataset / pairs_file):
            # The pivot file lists paths of another machine: the photos are known by file name.
            left, right = root(Path(pair.left).name), root(Path(pair.right).name)
            if pair.same:
                parent[left] = right
    people: dict[str, list[str]] = {}
    for name in list(parent):
        people.setdefault(root(name), []).append(name)
    ordered = sorted((sorted(photos, key=photo_number) for photos in people.values()), key=lambda p: photo_number(p[0]))
    return {name: number for number, photos in enumerate(ordered) for name in photos}


@dataclass(frozen=True)
class IdentificationSet:
    gallery: dict[int, str]  # listed person -> their reference photo
    probes: dict[str, int | None]  # probe photo -> listed person it shows, None for unlisted people

    @property
    def unlisted_probes(self) -> int:
        return sum(1 for person in self.probes.values() if person is None)


def identification_set(dataset: Path, listed: int = LISTED, max_probes: int = 0) -> IdentificationSet:
    """max_probes > 0 keeps an even spread of that many probes (quick runs)."""
    person_of = identities(dataset)
    photos: dict[int, list[str]] = {}
    for name in sorted(person_of, key=photo_number):
        photos.setdefault(person_of[name], []).append(name)
    gallery = {person: photos[person][0] for person in sorted(photos)[:listed]}
    probes: dict[str, int | None] = {
        name: (person if person in gallery else None)
        for name, person in sorted(person_of.items(), key=lambda item: photo_number(item[0]))
        if name not in gallery.values()
    }
    if max_probes and len(probes) > max_probes:
        names = list(probes)
        picked = [names[round(i * (len(names) - 1) / (max_probes - 1))] for i in range(max_probes)]
        probes = {name: probes[name] for name in picked}
    return IdentificationSet(gallery, probes)


def _window(image: NDArray[np.uint8], centre: tuple[float, float], size: tuple[int, int]) -> NDArray[np.uint8]:
    """The size=(w, h) window of image centred on centre, edge pixels repeated at the borders when needed."""
    width, height = size
    pad = max(width, height)
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    x = int(round(centre[0] - width / 2)) + pad
    y = int(round(centre[1] - height / 2)) + pad
    return np.ascontiguousarray(padded[y : y + height, x : x + width])


def _face_window(engine: "Engine", image: NDArray[np.uint8], face_px: int, size: tuple[int, int]) -> NDArray[np.uint8]:
    """A window of `image` rescaled so that its largest face is face_px tall, centred on it."""
    rows = engine.detect(image)
    if not len(rows):
        raise ValueError("no face in the frame's source photo")
    x, y, w, h = rows[np.argmax(rows[:, 2] * rows[:, 3]), :4]
    scale = face_px / h
    small = np.asarray(cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    return _window(small, ((x + w / 2) * scale, (y + h / 2) * scale), size)


def frames(engine: "Engine", dataset: Path, sources: list[str]) -> dict[int, NDArray[np.uint8]]:
    """640x360 BGR frames showing 0, 1 and 5 faces, cut from the photos `sources` (5 people).

    1 face: the first source, face 120 px tall as in a lobby camera; 5 faces: five
    128x360 strips with faces 80 px tall; 0 faces: the 1-face frame with the face region
    blurred away.
    """
    from recognition.images import PHOTO_FORMATS, decode_image

    photos = [decode_image((dataset / name).read_bytes(), max_side=1280, formats=PHOTO_FORMATS) for name in sources]
    width, height = FRAME_SIZE
    one = _face_window(engine, photos[0], 120, FRAME_SIZE)
    strips = [_face_window(engine, photo, 80, (width // 5, height)) for photo in photos[:5]]
    five = np.ascontiguousarray(np.hstack(strips))
    none = one.copy()
    x, y, w, h = engine.detect(one)[0, :4]
    x0, y0 = max(int(x - w / 2), 0), max(int(y - h / 2), 0)
    x1, y1 = min(int(x + 1.5 * w), width), min(int(y + 1.5 * h), height)
    none[y0:y1, x0:x1] = cv2.GaussianBlur(none[y0:y1, x0:x1], (0, 0), 25)
    return {0: none, 1: one, 5: five}
