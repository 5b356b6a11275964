from django.apps import AppConfig


class HistoryConfig(AppConfig):
    # Per-user submission history (accounts, S3 storage, CDN) arrives with its own issue.
    name = "history"
    verbose_name = "Submission history"
