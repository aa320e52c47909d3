"""Foreign keys lose their own indexes where another index starts with them."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from lejek.core.key_indexes import key_indexes_dropped


class Migration(migrations.Migration):

    dependencies = [
        ('activities', '0004_activity_author_time_index'),
        ('contacts', '0005_key_indexes'),
        ('leads', '0013_key_indexes'),
        ('pipeline', '0013_key_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        key_indexes_dropped(
            "activities",
            migrations.AlterField(
                model_name='activity',
                name='author',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='author'),
            ),
            migrations.AlterField(
                model_name='activity',
                name='company',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, to='contacts.company'),
            ),
            migrations.AlterField(
                model_name='activity',
                name='contact',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, to='contacts.contact'),
            ),
            migrations.AlterField(
                model_name='activity',
                name='deal',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, to='pipeline.deal'),
            ),
            migrations.AlterField(
                model_name='activity',
                name='lead',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, to='leads.lead'),
            ),
            migrations.AlterField(
                model_name='attachment',
                name='company',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, to='contacts.company'),
            ),
            migrations.AlterField(
                model_name='attachment',
                name='contact',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, to='contacts.contact'),
            ),
            migrations.AlterField(
                model_name='attachment',
                name='deal',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, to='pipeline.deal'),
            ),
            migrations.AlterField(
                model_name='attachment',
                name='lead',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, to='leads.lead'),
            ),
            migrations.AlterField(
                model_name='comment',
                name='company',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, to='contacts.company'),
            ),
            migrations.AlterField(
                model_name='comment',
                name='contact',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, to='contacts.contact'),
            ),
            migrations.AlterField(
                model_name='comment',
                name='deal',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, to='pipeline.deal'),
            ),
            migrations.AlterField(
                model_name='comment',
                name='lead',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, to='leads.lead'),
            ),
            migrations.AlterField(
                model_name='task',
                name='company',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, to='contacts.company'),
            ),
            migrations.AlterField(
                model_name='task',
                name='contact',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, to='contacts.contact'),
            ),
            migrations.AlterField(
                model_name='task',
                name='deal',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, to='pipeline.deal'),
            ),
            migrations.AlterField(
                model_name='task',
                name='lead',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, to='leads.lead'),
            ),
            migrations.AlterField(
                model_name='task',
                name='assignee',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='tasks', to=settings.AUTH_USER_MODEL, verbose_name='assignee'),
            ),
        ),
        migrations.AddIndex(
            model_name='comment',
            index=models.Index(fields=['lead', '-created_at'], name='activities__lead_id_64c8f5_idx'),
        ),
        migrations.AddIndex(
            model_name='comment',
            index=models.Index(fields=['contact', '-created_at'], name='activities__contact_edbe61_idx'),
        ),
        migrations.AddIndex(
            model_name='comment',
            index=models.Index(fields=['company', '-created_at'], name='activities__company_8bab76_idx'),
        ),
        migrations.AddIndex(
            model_name='comment',
            index=models.Index(fields=['deal', '-created_at'], name='activities__deal_id_dc0585_idx'),
        ),
        migrations.AddIndex(
            model_name='task',
            index=models.Index(fields=['lead'], name='activities__lead_id_aa9b07_idx'),
        ),
        migrations.AddIndex(
            model_name='task',
            index=models.Index(fields=['contact'], name='activities__contact_3f9a6d_idx'),
        ),
        migrations.AddIndex(
            model_name='task',
            index=models.Index(fields=['company'], name='activities__company_9a7f7c_idx'),
        ),
        migrations.AddIndex(
            model_name='task',
            index=models.Index(fields=['deal'], name='activities__deal_id_bc3fc9_idx'),
        ),
    ]
