"""OpenCV's built-in people detector on real photos (no stubs)."""

import numpy as np

from recognition.images import PHOTO_FORMATS, decode_image
from recognition.persons import detect_people


def test_riders_in_a_street_photo_are_found_as_people(covered_faces_dev):
    # Four riders on scooters and motorbikes, heads and bodies in view (labelled none: no helmets).
    image = decode_image((covered_faces_dev / "none" / "pavhelm_191.jpg").read_bytes(), 1280, PHOTO_FORMATS)
    people = detect_people(image)
    height, width = image.shape[:2]
    assert len(people) >= 2
    for x, y, w, h in people:
        assert 0 <= x < width and 0 <= y < height and h > w > 0  # upright boxes inside the frame


def test_an_empty_wall_has_no_one_in_it():
    wall = np.full((480, 640, 3), 128, dtype=np.uint8)
    wall[:, 320:] = 90  # a door frame edge
    assert detect_people(wall) == []


def test_a_frame_too_small_for_the_detector_window_gives_no_boxes():
    assert detect_people(np.zeros((100, 60, 3), dtype=np.uint8)) == []
