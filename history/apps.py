from django.apps import AppConfig


class HistoryConfig(AppConfig):
    # Each signed-in user's submissions: the photo, its thumbnail and what the model said.
    name = "history"
    verbose_name = "Submission history"

    def ready(self) -> None:
        from history import signals  # noqa: F401 - deletes a deleted user's photos
