"""Print where to go and who to sign in as: the last thing `make run` says before the processes start."""

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.common.credentials import credentials_path
from apps.demo.logins import persona_lines


def mail_destination() -> str:
    """Where this process's e-mail goes, in words."""
    backend = settings.EMAIL_BACKEND
    if backend.endswith("filebased.EmailBackend"):
        return f"files in {getattr(settings, 'EMAIL_FILE_PATH', '')} (a .log file per sending)"
    if backend.endswith("console.EmailBackend"):
        return "this console"
    if backend.endswith("smtp.EmailBackend"):
        return f"the mail server {settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    return backend


class Command(BaseCommand):
    help = "Print the addresses of the running product, where demo e-mail goes, and the demo logins with their roles."

    def handle(self, *args, **options):
        site = settings.SITE_URL
        lines = [
            "",
            f"  HR home (admin):  {site}/admin/",
            f"  Portal:           {site}/  (employees: My evidence, My cases; reviewers: Review queue)",
            f"  Dashboard:        {site}/reports/  (Leadership and HR)",
            f"  API docs:         {site}/api/docs/",
            f"  E-mail:           {mail_destination()}",
            "",
        ]
        logins = persona_lines()
        if logins:
            lines.append(f"  Demo logins (user / password; kept in {credentials_path()}):")
            lines.extend(f"    {line}" for line in logins)
        else:
            lines.append("  No demo logins saved yet: run `manage.py ensure_admin` and `manage.py seed_demo`.")
        lines += ["", "  Ctrl-C stops web, worker and beat.", ""]
        self.stdout.write("\n".join(lines))
