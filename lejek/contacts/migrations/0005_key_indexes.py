"""Foreign keys lose their own indexes where another index starts with them."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from lejek.core.key_indexes import key_indexes_dropped


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0004_merge'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        key_indexes_dropped(
            "contacts",
            migrations.AlterField(
                model_name='company',
                name='owner',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='owner'),
            ),
            migrations.AlterField(
                model_name='contact',
                name='owner',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='owner'),
            ),
        ),
    ]
