"""Foreign keys lose their own indexes where another index starts with them."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from lejek.core.key_indexes import key_indexes_dropped


class Migration(migrations.Migration):

    dependencies = [
        ('pipeline', '0012_remove_stage_change_first_entry'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        key_indexes_dropped(
            "pipeline",
            migrations.AlterField(
                model_name='deal',
                name='owner',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='owner'),
            ),
            migrations.AlterField(
                model_name='deal',
                name='pipeline',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='deals', to='pipeline.pipeline', verbose_name='pipeline'),
            ),
            migrations.AlterField(
                model_name='deal',
                name='stage',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='deals', to='pipeline.stage', verbose_name='stage'),
            ),
            migrations.AlterField(
                model_name='stagechange',
                name='deal',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='stage_changes', to='pipeline.deal'),
            ),
            migrations.AlterField(
                model_name='stagechange',
                name='from_stage',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='pipeline.stage'),
            ),
            migrations.AlterField(
                model_name='stagechange',
                name='to_stage',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='pipeline.stage'),
            ),
        ),
    ]
