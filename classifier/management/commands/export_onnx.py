"""`python manage.py export_onnx`: writes the ONNX model that the onnx backend serves.

Run it once after installing, and again whenever CLASSIFIER_WEIGHTS or
CLASSIFIER_MODEL_NAME changes. It needs torch; the server on the onnx backend does not.
"""

import pickle
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from classifier.backends import export_onnx
from classifier.labels import load_labels


class Command(BaseCommand):
    help = "Export the classifier's PyTorch weights to the ONNX file the onnx backend runs."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            help="Where to write the model (default: settings.CLASSIFIER_ONNX_PATH).",
        )
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Do nothing if the file already exists.",
        )

    def handle(self, *args, output: Path | None, if_missing: bool, **options) -> None:
        destination = output or Path(settings.CLASSIFIER_ONNX_PATH)
        if if_missing and destination.exists():
            self.stdout.write(f"{destination} exists; not exporting again.")
            return
        model_name = settings.CLASSIFIER_MODEL_NAME
        try:
            labels = load_labels(settings.CLASSIFIER_LABELS or None)
            num_classes = export_onnx(
                destination, weights_path=settings.CLASSIFIER_WEIGHTS or None, model_name=model_name
            )
        except (OSError, ValueError, RuntimeError, pickle.UnpicklingError) as error:
            raise CommandError(f"Export failed: {error}") from error
        if num_classes != len(labels):
            # Exported anyway: the weights are fine, it is the label file that must change.
            self.stderr.write(
                self.style.WARNING(
                    f"The model has {num_classes} classes but the label file has {len(labels)} "
                    "names: the server will refuse to start until CLASSIFIER_LABELS matches."
                )
            )
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {destination} ({model_name}, {num_classes} classes).")
        )
