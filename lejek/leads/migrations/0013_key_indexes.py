"""Foreign keys lose their own indexes where another index starts with them."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from lejek.core.key_indexes import key_indexes_dropped


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0012_status_entries_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        key_indexes_dropped(
            "leads",
            migrations.AlterField(
                model_name='lead',
                name='owner',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='owner'),
            ),
            migrations.AlterField(
                model_name='leadstatuschange',
                name='lead',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='status_changes', to='leads.lead'),
            ),
        ),
    ]
