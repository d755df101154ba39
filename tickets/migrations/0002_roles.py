from django.db import migrations

from aftersales.roles import sync_role_permissions


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0001_initial"),
        ("aftersales", "0003_roles"),
    ]

    operations = [migrations.RunPython(sync_role_permissions, migrations.RunPython.noop)]
