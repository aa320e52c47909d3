from django.db import migrations


def keep_scores(apps, schema_editor):
    """Give a LeadScore row to every lead that had a score but was never scored by Lejek
    (written by hand or by an older import), so no score is lost with the column."""
    Lead = apps.get_model("leads", "Lead")
    LeadScore = apps.get_model("scoring", "LeadScore")
    missing = (
        Lead.objects.filter(score__gt=0, lead_score__isnull=True)
        .order_by("pk")
        .values_list("pk", "score")
    )
    batch = []
    for pk, score in missing.iterator(chunk_size=5000):
        batch.append(LeadScore(lead_id=pk, score=score))
        if len(batch) == 5000:
            LeadScore.objects.bulk_create(batch)
            batch = []
    LeadScore.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0007_form_submission_queue"),
        ("scoring", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(keep_scores, migrations.RunPython.noop, elidable=True),
        migrations.RemoveConstraint(
            model_name="lead",
            name="lead_score_at_most_100",
        ),
        migrations.RemoveIndex(
            model_name="lead",
            name="leads_lead_owner_i_bb5ee9_idx",
        ),
        migrations.RemoveField(
            model_name="lead",
            name="score",
        ),
    ]
