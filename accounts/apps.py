from django.apps import AppConfig


class AccountsConfig(AppConfig):
    # Sign-up, log-in and personal API tokens. Django's own auth does the heavy lifting.
    name = "accounts"
    verbose_name = "Accounts and API tokens"
