"""The knowledge base's role permissions (knowledge.plugin.ROLE_PERMISSIONS) given to the roles."""

from django.db import migrations

from aftersales.roles import sync_role_permissions


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0002_search_index"),
    ]

    operations = [
        migrations.RunPython(sync_role_permissions, migrations.RunPython.noop),
    ]
