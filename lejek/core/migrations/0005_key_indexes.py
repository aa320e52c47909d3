"""Foreign keys lose their own indexes where another index starts with them."""

import django.db.models.deletion
from django.db import migrations, models

from lejek.core.key_indexes import key_indexes_dropped


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('core', '0004_reasons'),
    ]

    operations = [
        key_indexes_dropped(
            "core",
            migrations.AlterField(
                model_name='event',
                name='content_type',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='contenttypes.contenttype'),
            ),
        ),
    ]
