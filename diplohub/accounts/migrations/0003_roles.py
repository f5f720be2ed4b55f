"""The role groups: staff, host, member (see diplohub/accounts/roles.py)."""

from django.db import migrations

from diplohub.accounts.roles import sync_role_groups


def create_roles(apps, schema_editor):
    sync_role_groups(apps=apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("directory", "0001_initial"),
    ]

    # Reversing keeps the groups: removing them would drop everyone's roles.
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
