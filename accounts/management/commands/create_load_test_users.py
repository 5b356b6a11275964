"""`manage.py create_load_test_users 20`: makes 20 users for a load test and prints, as
JSON, each one's user name, password and a new API token.

A load test signs its users in (pages need a session) and sends their tokens (the
API), but must not sign them up while it measures: sign-up is limited per address. So
they are made beforehand, here, in whatever database the settings name; run it through
`scripts/stack manage` to make them in the stack's database. Running it again with the
same --prefix gives the same users new passwords and tokens.
"""

import json
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import ApiToken


class Command(BaseCommand):
    help = "Creates users for a load test; prints their names, passwords and tokens as JSON."

    def add_arguments(self, parser):
        parser.add_argument("count", type=int)
        parser.add_argument("--prefix", default="loadtest-", help="user names: PREFIX0, PREFIX1...")

    def handle(self, *args, count: int, prefix: str, **options):
        made = []
        with transaction.atomic():
            for number in range(count):
                username = f"{prefix}{number}"
                password = secrets.token_urlsafe(16)
                user, _ = get_user_model().objects.get_or_create(username=username)
                user.set_password(password)
                user.save()
                _, token = ApiToken.issue(user, "load test")
                made.append({"username": username, "password": password, "token": token})
        self.stdout.write(json.dumps(made))
