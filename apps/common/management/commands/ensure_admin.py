"""Create the HR admin login once and print it."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.common.credentials import load_credentials, new_password, remember_credentials
from apps.common.roles import Role, ensure_role_groups, grant_hr_permissions


class Command(BaseCommand):
    help = "Create the HR admin account (superuser in the HR group) if it does not exist, and print its login."

    def add_arguments(self, parser):
        parser.add_argument("--username", default=None, help="Defaults to DEMO_ADMIN_USERNAME (hr-admin).")

    def handle(self, *args, **options):
        from django.conf import settings

        username = options["username"] or settings.DEMO_ADMIN_USERNAME
        user_model = get_user_model()
        with transaction.atomic():
            groups = ensure_role_groups()
            grant_hr_permissions()
            user = user_model.objects.filter(username=username).first()
            if user is None:
                password = new_password()
                user = user_model.objects.create_superuser(
                    username=username, email=f"{username}@localhost", password=password
                )
                user.groups.add(groups[Role.HR])
                remember_credentials({username: password})
                self.stdout.write(self.style.SUCCESS(f"Created HR admin '{username}'."))
        saved = load_credentials().get(username)
        if saved:
            self.stdout.write(f"HR admin login: {username} / {saved}")
        else:
            self.stdout.write(f"HR admin '{username}' exists (its password was not created by this command).")
