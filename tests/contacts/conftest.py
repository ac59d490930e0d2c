import pytest


@pytest.fixture
def media_root(tmp_path, settings):
    """Keep the test's public media files in its own temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def campaign_root(tmp_path, settings):
    """Keep the test's campaign files in its own temporary private folder."""
    settings.CAMPAIGN_EXPORT_ROOT = tmp_path / "private" / "campaigns"
    return settings.CAMPAIGN_EXPORT_ROOT
