import re

import pytest
import yaml
from django.contrib.staticfiles import finders

from licensing.models import ValidationCode

LICENSING_PATHS = [
    "/api/v1/licenses/validate",
    "/validate-license",
    "/api/v1/licenses/activate",
    "/api/v1/licenses/deactivate",
    "/api/v1/licenses/heartbeat",
    "/api/v1/licenses/usage",
]


@pytest.fixture
def schema(client, db):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_the_schema_documents_every_licensing_endpoint_with_examples(schema):
    for path in LICENSING_PATHS:
        operation = schema["paths"][path]["post"]
        assert operation["requestBody"]["content"]["application/json"]["examples"], path
        assert operation["security"] == [{}], path
        for status in ("400", "413", "429"):
            assert status in operation["responses"], (path, status)


def test_the_validate_examples_cover_every_code(schema):
    examples = schema["paths"]["/api/v1/licenses/validate"]["post"]["responses"]["200"]["content"][
        "application/json"
    ]["examples"]
    codes = {example["value"]["code"] for example in examples.values()}
    assert codes == set(ValidationCode.values)


def test_the_activation_examples_cover_each_status(schema):
    responses = schema["paths"]["/api/v1/licenses/activate"]["post"]["responses"]
    assert {"200", "201", "403", "404", "409"} <= set(responses)


def test_the_docs_page_loads_its_assets_locally(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"https?://(?!testserver)", html.split("</head>")[0])
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert assets
    for asset in assets:
        # Served by whitenoise from the installed sidecar package, never from a CDN.
        assert finders.find(asset.removeprefix("/static/")), asset
