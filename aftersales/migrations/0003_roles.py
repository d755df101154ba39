from django.db import migrations

from aftersales.roles import sync_role_permissions


class Migration(migrations.Migration):
    dependencies = [
        ("aftersales", "0002_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(sync_role_permissions, migrations.RunPython.noop)]
