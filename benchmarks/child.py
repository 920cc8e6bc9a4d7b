"""`python -m benchmarks.child PART 'JSON args'`: one measurement, its JSON result on the last line.

The parent (benchmarks.cpu) pins this process to one core and limits thread pools through
the environment before anything heavy is imported.
"""

import json
import os
import sys


def main() -> None:
    part, args = sys.argv[1], json.loads(sys.argv[2])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankwatch.settings")
    import django

    django.setup()
    from benchmarks.parts import PARTS

    print(json.dumps(PARTS[part](**args)), flush=True)


if __name__ == "__main__":
    main()
