from django.apps import AppConfig


class ThrottlingConfig(AppConfig):
    # An app only for its template: the page a browser gets when over a limit.
    name = "throttling"
    verbose_name = "Throttling"
