from django_tasks import task

from diplohub.knowledge import similarity


@task()
def refresh_similar(initiative_id: int) -> dict[str, int]:
    """Recompute this initiative's similar initiatives and those its change affects
    (see services.similar_refresh). Safe to run twice: each list is replaced whole."""
    report = similarity.refresh([initiative_id], related=True)
    return {
        "refreshed": len(report.refreshed),
        "cleared": len(report.cleared),
        "skipped": len(report.skipped),
    }
