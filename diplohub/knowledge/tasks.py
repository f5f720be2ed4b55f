from django_tasks import task

from diplohub.knowledge import similarity
from diplohub.knowledge.models import Initiative


@task()
def refresh_similar(initiative_id: int) -> dict[str, int]:
    """Recompute the similar initiatives due since a change (this initiative's, those
    of the initiatives that list it or should now, and any other change's not yet
    done; see services.similar_refresh_due). Safe to run twice, or after another run
    did the work: each list is replaced whole, and what is done is no longer due."""
    report = similarity.refresh_due()
    still_due = Initiative.objects.filter(pk=initiative_id, similar_computed_at__isnull=True)
    if still_due.exists():  # beyond refresh_due's limit, or changed again meanwhile
        more = similarity.refresh([initiative_id], related=True)
        report.refreshed += more.refreshed
        report.cleared += more.cleared
    return {
        "refreshed": len(report.refreshed),
        "cleared": len(report.cleared),
        "skipped": len(report.skipped),
    }
