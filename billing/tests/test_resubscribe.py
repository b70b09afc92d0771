"""After the end: a returning customer who subscribes again gets the same keys back (key text,
devices, team and members), once, whatever the webhooks do; the pages say how the subscription
ended and offer Resubscribe; /team/ opens the live team. Real HTTP to the Stripe simulator,
signed webhooks into the real endpoint, the validation API's answer at the end."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils.html import escape

from accounts.tests.factories import UserFactory
from billing.models import Plan
from billing.tests.lifecycle import buy, start_checkout
from licensing import services as licensing_services
from licensing.models import License, LicenseKey, LicenseStatus
from teams import services as team_services
from teams.models import Membership, Team

pytestmark = pytest.mark.django_db(transaction=True)


def answer(client, key: str, fingerprint: str | None = None) -> dict:
    body = {"key": key, **({"fingerprint": fingerprint} if fingerprint else {})}
    response = client.post("/api/v1/licenses/validate", body, content_type="application/json")
    assert response.status_code == 200
    return response.json()


def activate(client, key: str, fingerprint: str) -> None:
    response = client.post(
        "/api/v1/licenses/activate",
        {"key": key, "fingerprint": fingerprint, "name": fingerprint},
        content_type="application/json",
    )
    assert response.status_code in (200, 201), response.content


def add_member(license_: License, owner, email: str):
    """A colleague invited by email who accepts: their own key on the team's license."""
    member = UserFactory(email=email)
    sent = team_services.team_invite_member(team=license_.team, email=email, by=owner)
    membership = team_services.invitation_accept(token=sent.token, user=member)
    return member, membership.key.reveal()


def team_with_member_and_devices(client, catalogue, buyer):
    license_ = buy(client, catalogue, buyer, plan="team")
    owner_key = license_.keys.get(holder=buyer).reveal()
    member, member_key = add_member(license_, buyer, "mila@example.com")
    activate(client, owner_key, "owner-laptop")
    activate(client, member_key, "mila-laptop")
    return license_, owner_key, member, member_key


def cancel_and_let_the_period_end(client, catalogue, buyer, license_: License) -> None:
    client.force_login(buyer)
    assert client.post(reverse("billing:cancel_subscription")).status_code == 302
    catalogue.end_period(license_.stripe_subscription_id, backdate=True)
    license_.refresh_from_db()
    assert license_.status == LicenseStatus.INACTIVE


def restored_mails() -> list:
    return [m for m in mail.outbox if "works again" in m.subject]


def new_key_mails() -> list:
    return [m for m in mail.outbox if "license key" in m.subject.lower()]


def test_a_cancelled_team_that_resubscribes_gets_the_same_keys_devices_members_and_team(
    client, catalogue, buyer
):
    old, owner_key, member, member_key = team_with_member_and_devices(client, catalogue, buyer)
    team = old.team
    cancel_and_let_the_period_end(client, catalogue, buyer, old)
    assert answer(client, owner_key, "owner-laptop")["valid"] is False
    assert answer(client, member_key, "mila-laptop")["valid"] is False

    client.force_login(buyer)
    page = client.get(reverse("dashboard")).content.decode()
    assert "as you cancelled it" in page and "Resubscribe" in page
    mail.outbox.clear()

    # The same plan and interval within the minute: a new Checkout, not the paid one replayed.
    new = buy(client, catalogue, buyer, plan="team")
    assert new.pk != old.pk and new.status == LicenseStatus.ACTIVE
    # The same key text validates, on the same device, for the owner and the member.
    owner_answer = answer(client, owner_key, "owner-laptop")
    assert (owner_answer["valid"], owner_answer["code"]) == (True, "VALID")
    member_answer = answer(client, member_key, "mila-laptop")
    assert (member_answer["valid"], member_answer["code"]) == (True, "VALID")
    assert LicenseKey.objects.count() == 2  # no key was issued
    assert set(new.keys.values_list("holder__email", flat=True)) == {buyer.email, member.email}
    assert new.keys.get(holder=member).devices.get().fingerprint == "mila-laptop"
    # One team, the old one, now on the live license, with its member.
    assert Team.objects.count() == 1
    team.refresh_from_db()
    assert team.license_id == new.pk
    assert Membership.objects.filter(team=team, user=member).exists()
    # The Team link opens it, live.
    response = client.get(reverse("teams:detail"))
    assert response.context["team"].pk == team.pk
    assert "not active" not in response.content.decode()
    # The owner is told the key works again; no new key is sent.
    assert len(restored_mails()) == 1 and not new_key_mails()
    body = restored_mails()[0].body
    assert owner_key not in body and owner_key.split("-")[0] in body
    assert "1 member" in body
    # The page after Checkout shows the same key.
    assert client.get(reverse("dashboard")).status_code == 200


def test_an_involuntary_end_is_said_on_the_pages_and_a_solo_resubscription_takes_the_owners_key_only(
    client, catalogue, buyer
):
    old, owner_key, member, member_key = team_with_member_and_devices(client, catalogue, buyer)
    catalogue.fail_payment(old.stripe_subscription_id)
    catalogue.exhaust_retries(old.stripe_subscription_id, outcome="cancel")
    old.refresh_from_db()
    assert old.status == LicenseStatus.INACTIVE

    client.force_login(buyer)
    for url in (reverse("dashboard"), reverse("billing:manage")):
        page = client.get(url).content.decode()
        assert "after the payment failed" in page, url
        assert f'href="{reverse("pricing")}">Resubscribe' in page, url
        assert "You have no subscription yet" not in page

    new = buy(client, catalogue, buyer, plan="solo")
    assert answer(client, owner_key, "owner-laptop")["code"] == "VALID"
    assert answer(client, member_key, "mila-laptop")["valid"] is False
    assert list(new.keys.values_list("holder_id", flat=True)) == [buyer.pk]
    # A single seat has no team: the old one stays with the ended license, secondary.
    assert Team.objects.get().license_id == old.pk
    assert not Team.objects.filter(license=new).exists()


def test_an_unpaid_subscription_says_the_payment_failed_and_its_keys_come_back(client, catalogue, buyer):
    old = buy(client, catalogue, buyer, plan="solo")
    owner_key = old.keys.get().reveal()
    catalogue.fail_payment(old.stripe_subscription_id)
    catalogue.exhaust_retries(old.stripe_subscription_id, outcome="mark_unpaid")
    client.force_login(buyer)
    page = client.get(reverse("billing:manage")).content.decode()
    assert "Your subscription ended after the payment failed." in page
    buy(client, catalogue, buyer, plan="solo", interval="year")
    assert answer(client, owner_key)["code"] == "VALID"
    assert LicenseKey.objects.count() == 1


def test_duplicate_and_concurrent_deliveries_move_the_keys_once_and_issue_none(client, catalogue, buyer):
    old, owner_key, member, member_key = team_with_member_and_devices(client, catalogue, buyer)
    cancel_and_let_the_period_end(client, catalogue, buyer, old)
    mail.outbox.clear()
    with catalogue.hold_webhooks():
        session_id = start_checkout(client, buyer, "team", "year")
        catalogue.complete_checkout(session_id)
        events = catalogue.pending_events()
    catalogue.deliver(events, times=3, concurrently=True)
    catalogue.flush()
    # The success page reconciles too, after the webhooks.
    client.get(reverse("billing:success"), {"session_id": session_id})
    new = License.objects.exclude(pk=old.pk).get(owner=buyer)
    assert LicenseKey.objects.count() == 2
    assert new.keys.count() == 2 and not old.keys.active().exists()
    assert Team.objects.count() == 1 and Team.objects.get().license_id == new.pk
    assert len(restored_mails()) == 1 and not new_key_mails()
    assert answer(client, member_key, "mila-laptop")["code"] == "VALID"


def test_a_smaller_plan_keeps_the_oldest_keys_working_and_tells_the_owner(client, catalogue, buyer):
    old, owner_key, member, member_key = team_with_member_and_devices(client, catalogue, buyer)
    _, newest_key = add_member(old, buyer, "noor@example.com")
    cancel_and_let_the_period_end(client, catalogue, buyer, old)
    Plan.objects.filter(slug="team").update(seats=2)  # the Team plan now has two seats
    mail.outbox.clear()
    buy(client, catalogue, buyer, plan="team", interval="year")
    assert answer(client, owner_key)["code"] == "VALID"
    assert answer(client, member_key)["code"] == "VALID"
    assert answer(client, newest_key)["code"] == "SEAT_LIMIT_EXCEEDED"
    assert [m.to for m in mail.outbox if "seat" in m.subject.lower()] == [[buyer.email]]
    assert "1 fewer than are in use" in restored_mails()[0].body


def test_a_license_staff_revoked_is_not_revived(client, catalogue, buyer):
    old = buy(client, catalogue, buyer, plan="team")
    owner_key = old.keys.get().reveal()
    licensing_services.license_revoke(license=old, reason="fraud")
    catalogue.cancel_now(old.stripe_subscription_id)
    mail.outbox.clear()
    new = buy(client, catalogue, buyer, plan="team", interval="year")
    assert answer(client, owner_key)["code"] == "REVOKED"
    assert old.keys.count() == 1 and new.keys.count() == 1
    assert new.keys.get().reveal() != owner_key
    assert Team.objects.filter(license=new).exists() and Team.objects.count() == 2
    assert len(new_key_mails()) == 1 and not restored_mails()


def test_a_live_license_is_never_robbed(client, catalogue, buyer):
    team_plan = Plan.objects.get(slug="team")
    comp = licensing_services.license_issue(owner=buyer, plan=team_plan)  # live, no end
    new = buy(client, catalogue, buyer, plan="solo")
    comp.key.refresh_from_db()
    assert comp.key.license_id != new.pk
    assert new.keys.get().reveal() != comp.plaintext
    assert answer(client, comp.plaintext)["code"] == "VALID"


def test_the_team_link_opens_the_live_team_and_keeps_the_ended_one_reachable(client, catalogue, buyer):
    """The owner of a team that ended who joined a colleague's live team: /team/ opens the live
    one, though owned teams usually come first; the ended one is linked, marked, and opens."""
    own = buy(client, catalogue, buyer, plan="team")
    catalogue.cancel_now(own.stripe_subscription_id)
    colleague = UserFactory(email="colleague@example.com")
    live = buy(client, catalogue, colleague, plan="team")
    sent = team_services.team_invite_member(team=live.team, email=buyer.email, by=colleague)
    team_services.invitation_accept(token=sent.token, user=buyer)
    client.force_login(buyer)
    response = client.get(reverse("teams:detail"))
    assert response.context["team"].pk == live.team.pk
    page = response.content.decode()
    assert escape(own.team.name) in page and '<span class="tag tag-warning">ended</span>' in page
    ended = client.get(reverse("teams:team", args=[own.team.public_id]))
    assert ended.status_code == 200 and ended.context["team"].pk == own.team.pk
    api = client.get("/api/v1/team").json()
    assert api["id"] == str(live.team.public_id)
