"""Export my data: a JSON download of everything we hold about the account, scoped to it, with
no secret in it (keys masked, tokens by their hint)."""

import json

import pytest
from django.urls import reverse

from accounts.models import ApiToken
from accounts.tests.factories import UserFactory
from licensing.tests.factories import DeviceFactory
from teams.tests.factories import InvitationFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada():
    ada = UserFactory(email="ada@example.com", name="Ada Lovelace")
    team = TeamFactory(license__owner=ada, name="Analytical Engines")
    key = team.license.keys.get(holder=ada)
    key.plaintext = key.reveal()
    DeviceFactory(key=key, name="Ada's laptop")
    InvitationFactory(team=team, email="charles@example.com")
    token, plaintext = ApiToken.issue(user=ada, name="CI server")
    ada.secrets = {
        "key": key.plaintext,
        "key_digest": key.digest,
        "token": plaintext,
        "token_digest": token.digest,
    }
    return ada


@pytest.fixture
def someone_else():
    other = UserFactory(email="grace@example.com", name="Grace Hopper")
    team = TeamFactory(license__owner=other, name="Compilers Inc")
    DeviceFactory(key=team.license.keys.get(holder=other), name="Grace's mainframe")
    InvitationFactory(team=team, email="nobody@example.com")
    ApiToken.issue(user=other, name="Grace's token")
    return other


def export(client, user):
    client.force_login(user)
    return client.post(reverse("account_export"))


def test_the_export_is_a_private_json_download(client, ada):
    response = export(client, ada)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith('attachment; filename="qualitybytes-account-')
    assert response["Cache-Control"] == "no-store"
    data = json.loads(response.content)
    assert data["account"]["email"] == "ada@example.com" and data["account"]["name"] == "Ada Lovelace"
    assert data["account"]["email_addresses"] == [
        {"email": "ada@example.com", "verified": True, "primary": True}
    ]
    assert [license_["plan"] for license_ in data["licenses"]] == ["Team"]
    assert data["licenses"][0]["state"] == "Active"
    assert data["license_keys"][0]["key"].endswith("-…")
    assert [device["name"] for device in data["devices"]] == ["Ada's laptop"]
    assert data["team_memberships"] == [
        {"team": "Analytical Engines", "role": "owner", "joined_at": data["team_memberships"][0]["joined_at"]}
    ]
    assert [invitation["email"] for invitation in data["invitations_sent"]] == ["charles@example.com"]
    assert data["api_tokens"][0]["name"] == "CI server" and data["api_tokens"][0]["prefix"].startswith("qbt_")
    assert len(data["usage_last_30_days"]["validations_per_day"]) == 30
    assert data["invoices"] == []


def test_no_secret_is_in_the_export(client, ada):
    body = export(client, ada).content.decode()
    for name, secret in ada.secrets.items():
        assert secret not in body, name
    assert ada.password not in body


def test_another_accounts_data_never_appears(client, ada, someone_else):
    body = export(client, ada).content.decode()
    others = (
        "grace@example.com",
        "Grace Hopper",
        "Compilers Inc",
        "mainframe",
        "nobody@example.com",
        "Grace's",
    )
    for text in others:
        assert text not in body


def test_an_invitation_received_is_listed_without_the_inviters_secrets(client, ada, someone_else):
    InvitationFactory(team=TeamFactory(name="Welcome Co"), email="ada@example.com")
    data = json.loads(export(client, ada).content)
    assert [invitation["team"] for invitation in data["invitations_received"]] == ["Welcome Co"]


def test_the_export_needs_a_login_and_a_post(client, ada):
    assert client.post(reverse("account_export"))["Location"].startswith(reverse("account_login"))
    client.force_login(ada)
    assert client.get(reverse("account_export")).status_code == 405
