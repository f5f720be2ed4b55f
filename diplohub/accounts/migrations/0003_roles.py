"""The role groups: staff, host, member."""

from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.models import Q


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    # Django creates permissions after the last migration (post_migrate); the staff
    # group needs them now, on a fresh database too.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
        app_config.models_module = None

    staff, _ = Group.objects.get_or_create(name="staff")
    Group.objects.get_or_create(name="host")
    Group.objects.get_or_create(name="member")
    staff.permissions.add(
        *Permission.objects.filter(
            Q(content_type__app_label="directory")
            | Q(content_type__app_label="accounts", content_type__model="apitoken")
            | Q(content_type__app_label="accounts", codename="view_user")
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("directory", "0001_initial"),
    ]

    # Reversing keeps the groups: removing them would drop everyone's roles.
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
