"""`manage.py create_api_token alice --name "load test"`: prints a new token for alice.

For scripts and the autograder's set-up, where nobody opens the account page.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.models import ApiToken


class Command(BaseCommand):
    help = "Creates a personal API token for a user and prints it (it is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="what the token is for")

    def handle(self, *args, username: str, name: str, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"There is no user {username!r}.") from None
        _, token = ApiToken.issue(user, name)
        self.stdout.write(token)
