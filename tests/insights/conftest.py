from tests.reports_fixtures import sites  # noqa: F401
