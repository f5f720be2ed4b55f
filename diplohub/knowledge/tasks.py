from django_tasks import task

from diplohub.knowledge import services


@task()
def refresh_similar(initiative_id: int) -> dict[str, int]:
    """services.similar_refresh_after_change, in a worker after the change's commit."""
    return services.similar_refresh_after_change(initiative_id=initiative_id)
